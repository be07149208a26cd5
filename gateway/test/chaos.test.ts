/**
 * Chaos: while a few hundred evaluations (mostly Wasm, some containers) are in flight, an agent
 * is killed with SIGKILL, Redis is killed and restarted empty, PostgreSQL is restarted and the
 * Docker engine is restarted. Each fault is injected only once work is in flight (counted in
 * PostgreSQL at that instant; for the engine, container evaluations running), and each is shown
 * to have happened (the agent's pid is gone; Redis has a new run id and lost a sentinel key;
 * PostgreSQL and the engine have new pids). Afterwards every accepted evaluation must be terminal
 * and readable through the API, none lost, none with two results, and at least 99% completed
 * successfully. Redis, PostgreSQL and Docker are instances this test starts itself
 * (own-services.ts); the shared ones are never touched. Without its own Docker engine the test
 * fails: it promises Docker failures.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openStorage } from '@crucible/storage';
import { loadRuntimeCatalog } from '@crucible/executor-agent/container';
import { OwnDocker, OwnPostgres, OwnRedis } from './own-services.js';
import { Platform } from './platform.js';

const SHARED_DOCKER = process.env.DOCKER_HOST ?? 'unix:///run/crucible/docker.sock';
// CHAOS_TOTAL shrinks the run while investigating a failure; the suite runs the default.
const TOTAL = Number(process.env.CHAOS_TOTAL ?? 400);
/** Submitting goes on until every fault is injected, up to this many evaluations. */
const MAX_SUBMITTED = TOTAL * 3;
/** Every tenth evaluation runs in a container, long enough to be running when the engine restarts. */
const isContainer = (i: number) => i % 10 === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNFINISHED = ['queued', 'provisioning', 'running'];

/** Whether a process has ended: gone from /proc, or a zombie waiting for its parent to reap it. */
function exited(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Polls `check` until it holds; fails the test with `what` if it does not within `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await Promise.resolve(check()).catch(() => false))) {
    if (Date.now() > end) assert.fail(`${what} (not within ${ms} ms)`);
    await sleep(100);
  }
}

describe('chaos under load (own Redis, PostgreSQL and dockerd)', () => {
  it('every accepted evaluation ends exactly once, ≥ 99% successfully, through agent, Redis, PostgreSQL and Docker failures', { timeout: 600_000 }, async (t) => {
    const redis = await OwnRedis.start();
    const pg = await OwnPostgres.start();
    let docker: OwnDocker | undefined;
    try {
      // The shared engine is never restarted: without an engine of its own this test cannot do
      // what its name says, so that is a failure, not a Wasm-only pass.
      docker = await OwnDocker.start();
      const python = (await loadRuntimeCatalog()).find((r) => r.id === 'python')!;
      await docker.copyImage(python.image, SHARED_DOCKER);
    } catch (err) {
      await docker?.dispose();
      await pg.dispose();
      await redis.dispose();
      throw new Error(`the chaos test needs a Docker engine of its own and could not have one: ${(err as Error).message}`, { cause: err });
    }
    const engine = docker;
    const platform = await Platform.start({
      env: {
        REDIS_URL: redis.url,
        DATABASE_URL: pg.url,
        DOCKER_HOST: engine.host,
        CRUCIBLE_AGENTS: '2',
        CRUCIBLE_AGENTS_MAX: '2',
        CRUCIBLE_AGENT_CONCURRENCY: '2',
        CRUCIBLE_TASK_RETRIES: '6',
        CRUCIBLE_RETRY_BACKOFF_MS: '300',
        CRUCIBLE_STALL_INTERVAL_MS: '1000',
        CRUCIBLE_RECONCILE_INTERVAL_MS: '1000',
        CRUCIBLE_RECONCILE_GRACE_MS: '3000',
        CRUCIBLE_MAX_QUEUE_DEPTH: '100000',
      },
    });
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    probe.on('error', () => undefined);
    const storage = await openStorage({ databaseUrl: pg.url, dataDir: '' });
    try {
      await platform.waitForLanguage('javascript');
      await platform.waitForLanguage('python');

      // Submitters: each evaluation has its own Idempotency-Key, so retrying a submit whose answer
      // was lost (or that failed while PostgreSQL was down) can never create a second one.
      const accepted = new Map<number, string>();
      let next = 0;
      let refused = 0;
      const submitOne = async (i: number) => {
        const body = isContainer(i)
          ? { language: 'python', code: `import time\ntime.sleep(2)\nprint(${i})`, limits: { timeoutMs: 20_000 } }
          : { language: 'javascript', runtime: 'wasm', code: `const end = Date.now() + 20; while (Date.now() < end) {} console.log(${i})` };
        for (let tries = 0; tries < 60; tries++) {
          try {
            const res = await platform.request('POST', '/v1/evaluations', body, { 'Idempotency-Key': `chaos-${i}` });
            if (res.status === 200 || res.status === 202) return void accepted.set(i, res.json.id as string);
            refused++;
          } catch {
            refused++;
          }
          await sleep(500);
        }
      };
      let faultsDone = false;
      const submitters = Array.from({ length: 6 }, async () => {
        while ((next < TOTAL || !faultsDone) && next < MAX_SUBMITTED) {
          const i = next++;
          await submitOne(i);
          await sleep(30);
        }
      });

      /** Unfinished evaluations right now, from PostgreSQL (the truth): all, and containers running. */
      const inFlight = async () => {
        const rows = (await storage.knex('evaluations').whereIn('status', UNFINISHED).groupBy('runtime', 'status').select('runtime', 'status').count({ n: '*' })) as {
          runtime: string;
          status: string;
          n: string | number;
        }[];
        const all = rows.reduce((sum, r) => sum + Number(r.n), 0);
        const containersRunning = rows.filter((r) => r.runtime === 'container' && r.status !== 'queued').reduce((sum, r) => sum + Number(r.n), 0);
        return { all, containersRunning };
      };
      /** Waits until work is in flight, then records how much at the instant before the fault. */
      const atFault = async (fault: string, enough: (f: { all: number; containersRunning: number }) => boolean) => {
        let seen = { all: 0, containersRunning: 0 };
        await until(`work in flight before ${fault}`, async () => enough((seen = await inFlight())));
        t.diagnostic(`in flight at ${fault}: ${seen.all} unfinished, ${seen.containersRunning} container evaluations started`);
        faults.push({ fault, ...seen });
      };
      const faults: { fault: string; all: number; containersRunning: number }[] = [];

      const chaos = (async () => {
        try {
          await atFault('the agent kill', (f) => f.all >= 10);
          // The victim is an agent that says (in its own heartbeat) it is running tasks right now.
          let victim: { pid?: number; running?: number } | undefined;
          await until('an agent running tasks', async () => {
            const beats = Object.values(await probe.hgetall(`${platform.prefix}:agents`)).map((b) => JSON.parse(b) as { pid?: number; running?: number });
            victim = beats.find((b) => b.pid && (b.running ?? 0) > 0);
            return victim !== undefined;
          });
          const pid = victim!.pid!;
          t.diagnostic(`agent ${pid} reports ${victim!.running} running tasks`);
          process.kill(pid, 'SIGKILL');
          await until(`agent ${pid} died`, () => exited(pid), 10_000);
          t.diagnostic(`killed agent ${pid}; its process is gone`);
          await sleep(3000);

          await redis.cli('set', 'crucible-chaos-sentinel', 'before');
          const runId = await redis.runId();
          await atFault('the Redis kill', (f) => f.all > 0);
          await redis.kill();
          await sleep(1000);
          await redis.restart();
          const newRunId = await redis.runId();
          assert.notEqual(newRunId, runId, 'Redis restarted (a new run_id)');
          assert.equal(await redis.cli('exists', 'crucible-chaos-sentinel'), '0', 'Redis came back empty (the sentinel key is gone)');
          t.diagnostic(`Redis killed and restarted empty (run_id ${runId.slice(0, 8)} -> ${newRunId.slice(0, 8)})`);
          await sleep(5000);

          const postmaster = pg.postmasterPid();
          await atFault('the PostgreSQL restart', (f) => f.all > 0);
          await pg.restart();
          const newPostmaster = pg.postmasterPid();
          assert.notEqual(newPostmaster, postmaster, 'PostgreSQL restarted (a new postmaster)');
          assert.ok(exited(postmaster), `the old postmaster ${postmaster} is gone`);
          t.diagnostic(`PostgreSQL restarted (postmaster ${postmaster} -> ${newPostmaster})`);
          await sleep(5000);

          const enginePid = engine.enginePid();
          await atFault('the Docker engine restart', (f) => f.all > 0 && f.containersRunning > 0);
          await engine.restart();
          const newEnginePid = engine.enginePid();
          assert.notEqual(newEnginePid, enginePid, 'the engine restarted (a new dockerd pid)');
          assert.ok(exited(enginePid), `the old dockerd ${enginePid} is gone`);
          t.diagnostic(`Docker engine restarted (dockerd ${enginePid} -> ${newEnginePid})`);
        } finally {
          faultsDone = true;
        }
      })();
      await Promise.all([...submitters, chaos]);
      assert.deepEqual(faults.map((f) => f.fault), ['the agent kill', 'the Redis kill', 'the PostgreSQL restart', 'the Docker engine restart']);
      t.diagnostic(`accepted ${accepted.size} of ${next} submitted (${refused} submit attempts refused or failed during the chaos)`);
      assert.ok(accepted.size >= next * 0.95, `most submissions were accepted in the end: ${accepted.size}/${next}`);

      const ids = [...accepted.values()];
      const terminal = ['completed', 'failed', 'cancelled'];
      let rows: { id: string; status: string; outcome: string | null; stdout: string; attempts: number; error: string | null }[] = [];
      // stdout is the exact bytes (bytea); compared as the API's text, which they are here.
      const select = async () =>
        ((await storage.knex('evaluations').whereIn('id', ids).select('id', 'status', 'outcome', 'stdout', 'attempts', 'error')) as (Omit<(typeof rows)[number], 'stdout'> & { stdout: Buffer | null })[])
          .map((r) => ({ ...r, stdout: r.stdout ? r.stdout.toString('utf8') : '' }));
      const deadline = Date.now() + 300_000;
      for (;;) {
        rows = await select();
        if (rows.length === ids.length && rows.every((r) => terminal.includes(r.status))) break;
        if (Date.now() > deadline) break;
        await sleep(1000);
      }
      const byId = new Map(rows.map((r) => [r.id, r]));
      const lost = ids.filter((id) => !byId.has(id));
      assert.deepEqual(lost, [], 'no accepted evaluation is lost');
      const stuck = rows.filter((r) => !terminal.includes(r.status));
      assert.deepEqual(stuck.map((r) => `${r.id} ${r.status}`), [], 'every accepted evaluation is terminal');

      const endings = (await storage.knex('evaluation_events')
        .whereIn('evaluation_id', ids)
        .andWhere('type', 'status')
        .whereRaw("data->>'status' IN ('completed', 'failed', 'cancelled')")
        .groupBy('evaluation_id')
        .select('evaluation_id')
        .count({ n: '*' })) as { evaluation_id: string; n: string | number }[];
      const twice = endings.filter((e) => Number(e.n) !== 1);
      assert.deepEqual(twice, [], 'no evaluation has two results');
      assert.equal(endings.length, ids.length);

      const ok = [...accepted].filter(([i, id]) => {
        const r = byId.get(id)!;
        return r.status === 'completed' && r.outcome === 'success' && r.stdout === `${i}\n`;
      });
      const retried = rows.filter((r) => r.attempts > 1).length;
      const notOk = rows.filter((r) => !(r.status === 'completed' && r.outcome === 'success'));
      t.diagnostic(`succeeded ${ok.length}/${ids.length}; ${retried} needed more than one attempt; not ok: ${JSON.stringify(notOk.slice(0, 5))}`);
      assert.ok(ok.length >= Math.ceil(ids.length * 0.99), `≥ 99% succeeded: ${ok.length}/${ids.length}`);

      // Readable through the API too, as stored.
      const unreadable: string[] = [];
      for (let k = 0; k < ids.length; k += 20) {
        await Promise.all(ids.slice(k, k + 20).map(async (id) => {
          const res = await platform.request('GET', `/v1/evaluations/${id}`);
          if (res.status !== 200 || res.json.status !== byId.get(id)!.status || res.json.stdout !== byId.get(id)!.stdout) unreadable.push(`${id}: ${res.status} ${res.text.slice(0, 200)}`);
        }));
      }
      assert.deepEqual(unreadable, [], 'every evaluation reads back through the API as stored');
    } finally {
      probe.disconnect();
      await platform[Symbol.asyncDispose]();
      await storage.close();
      await engine.dispose();
      await pg.dispose();
      await redis.dispose();
    }
  });
});
