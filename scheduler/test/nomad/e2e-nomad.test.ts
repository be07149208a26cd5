/**
 * The whole platform in nomad mode: gateway + embedded scheduler with CRUCIBLE_DRIVER=nomad,
 * against the spec-checked fake Nomad, which really starts each dispatched executor agent as a
 * process on one of its fake nodes. Nothing here talks to the driver directly: evaluations go in
 * through the HTTP API, and what Nomad saw is read from the fake.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Platform } from '../../../gateway/test/platform.js';
import { FakeNomad } from './fake-nomad/fake-nomad.js';
import { crucibleCheckout, until } from './helpers.js';

const JOB = 'crucible-executor';

/** Busy JavaScript (no timers in the sandbox): roughly `ms` of CPU. */
function busy(ms: number, label: string) {
  return {
    language: 'javascript',
    code: `const end = Date.now() + ${ms}; let n = 0; while (Date.now() < end) n++; console.log(${JSON.stringify(label)});`,
  };
}

/** Submits and waits (beyond the API's 60 s `?wait=` limit) until the evaluation is terminal. */
async function runToEnd(platform: Platform, body: Record<string, unknown>, ms = 180_000) {
  const res = await platform.request('POST', '/v1/evaluations?wait=60', body);
  assert.ok(res.status === 201 || res.status === 202, res.text);
  return until(
    async () => {
      const ev = (await platform.request('GET', `/v1/evaluations/${res.json.id}`)).json;
      return ['completed', 'failed', 'cancelled'].includes(ev.status) ? ev : undefined;
    },
    ms,
    `evaluation ${res.json.id} to finish`,
  );
}

function nomadEnv(fake: FakeNomad, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CRUCIBLE_DRIVER: 'nomad',
    NOMAD_ADDR: fake.address,
    NOMAD_TOKEN: 'e2e-token',
    CRUCIBLE_NOMAD_INTERVAL_MS: '300',
    CRUCIBLE_NOMAD_MAX_AGENTS: '4',
    CRUCIBLE_NOMAD_MAX_STEP_UP: '4',
    CRUCIBLE_AGENT_CONCURRENCY: '1',
    CRUCIBLE_MAX_MEMORY_MB: '256',
    ...extra,
  };
}

function liveAgents(fake: FakeNomad) {
  return fake.state.liveAllocs().filter((a) => a.stub.JobID.startsWith(`${JOB}/dispatch-`));
}

describe('the platform on Nomad (fake Nomad, real agents)', { timeout: 600_000 }, () => {
  let fake: FakeNomad;
  let platform: Platform;

  before(async () => {
    fake = await FakeNomad.start({ token: 'e2e-token', rewrite: crucibleCheckout, nodeEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } });
    // Room for two agents per node: each asks 200 MHz + 1 x 1000 MHz and 256 + 1 x 256 MB.
    fake.state.addNode('node-1', { cpu: 2500, memoryMB: 1400 });
    fake.state.addNode('node-2', { cpu: 2500, memoryMB: 1400 });
    platform = await Platform.start({ env: nomadEnv(fake, { CRUCIBLE_NOMAD_IDLE_TIMEOUT_MS: '4000' }) });
  });

  after(async () => {
    await platform?.[Symbol.asyncDispose]();
    await fake?.[Symbol.asyncDispose]();
    assert.deepEqual(fake.violations, [], 'every request the scheduler sent must validate against the Nomad specification');
  });

  test('with no agents the platform is ready, says it runs on nomad, and registered the executor job', async () => {
    const ready = await until(async () => {
      const r = await platform.request('GET', '/readyz');
      return r.status === 200 && /^Nomad at http:\/\/127\.0\.0\.1/.test(r.json.checks.driver.detail) ? r : undefined;
    }, 30_000, 'ready with Nomad reachable');
    assert.match(ready.json.checks.runtime.detail, /dispatches them on demand/);
    const queue = await platform.request('GET', '/v1/queue');
    assert.equal(queue.json.driver, 'nomad');
    const job = await until(async () => fake.state.jobs.get(JOB), 20_000, 'executor job registered');
    assert.ok(job.ParameterizedJob);
    assert.ok(fake.requests.every((r) => r.token === 'e2e-token'));
  });

  test('Nomad unreachable: /readyz says so; when it is back, ready again', async () => {
    await fake.pause();
    try {
      const down = await until(async () => {
        const r = await platform.request('GET', '/readyz');
        return r.status === 503 ? r : undefined;
      }, 60_000, '/readyz to report Nomad down');
      assert.equal(down.json.error.code, 'unavailable');
      assert.equal(down.json.error.details.checks.driver.ok, false, down.text);
      assert.match(down.json.error.details.checks.driver.detail, /unreachable/);
    } finally {
      await fake.resume();
    }
    await until(async () => ((await platform.request('GET', '/readyz')).status === 200 ? true : undefined), 90_000, 'ready again');
    const metrics = await platform.request('GET', '/metrics');
    assert.match(metrics.text, /crucible_nomad_reachable 1/);
  });

  test('a Wasm evaluation completes on a dispatched agent, which got its lane through dispatch meta', async () => {
    const before = fake.state.dispatchLog.length;
    const ev = await runToEnd(platform, { language: 'javascript', code: 'console.log(6 * 7)' });
    assert.equal(ev.status, 'completed');
    assert.equal(ev.stdout, '42\n');
    const dispatches = fake.state.dispatchLog.slice(before);
    assert.ok(dispatches.length >= 1);
    assert.deepEqual(dispatches[0]!.meta, { lane: 'normal', max_tasks: '0', idle_timeout_ms: '4000' });
    // The agent reported itself under the allocation Nomad gave it, on a fake node.
    const queue = await platform.request('GET', '/v1/queue');
    const agent = queue.json.agents.find((a: { id: string }) => a.id.startsWith('nomad-'));
    assert.ok(agent, JSON.stringify(queue.json.agents));
    assert.match(agent.node, /^node-[12]$/);
    assert.ok(fake.state.allocs.has(agent.id.slice('nomad-'.length)));
  });

  test('a container evaluation completes too', async () => {
    const ev = await runToEnd(platform, { language: 'python', code: 'print(sum(range(10)))' });
    assert.equal(ev.status, 'completed', JSON.stringify(ev));
    assert.equal(ev.stdout, '45\n');
  });

  test('agents scale up with queue depth, within cluster capacity, and back down to none when idle', async () => {
    await until(async () => liveAgents(fake).length === 0 || undefined, 60_000, 'idle agents to retire');
    const batch = await platform.request('POST', '/v1/evaluations/batch', {
      evaluations: Array.from({ length: 12 }, (_, i) => busy(600, `job ${i}`)),
    });
    assert.equal(batch.status, 202, batch.text);
    let peak = 0;
    const ids: string[] = batch.json.items.map((e: { id: string }) => e.id);
    await until(
      async () => {
        peak = Math.max(peak, liveAgents(fake).length);
        const all = await Promise.all(ids.map((id) => platform.request('GET', `/v1/evaluations/${id}`)));
        return all.every((r) => r.json.status === 'completed') || undefined;
      },
      240_000,
      'the batch to complete',
    );
    assert.ok(peak >= 2, `queue depth should have brought more than one agent (peak ${peak})`);
    assert.ok(peak <= 4, `never more agents than the cluster holds or the policy allows (peak ${peak})`);
    // Idle agents exit (idle timeout), their allocations complete, and none are dispatched again.
    await until(async () => liveAgents(fake).length === 0 || undefined, 60_000, 'agents to retire');
    const afterIdle = fake.state.dispatchLog.length;
    // Not a pause that proves nothing if the scheduler was not looking: wait for several of its
    // ticks (each lists the jobs), then no dispatch may have happened in them.
    const ticks = () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length;
    const ticksBefore = ticks();
    await until(async () => ticks() >= ticksBefore + 4 || undefined, 60_000, 'scheduler ticks on an empty queue');
    assert.equal(fake.state.dispatchLog.length, afterIdle, 'an empty queue dispatches nothing');
    const retired = [...fake.state.allocs.values()].filter((a) => a.stub.JobID.startsWith(`${JOB}/dispatch-`));
    assert.ok(retired.every((a) => a.stub.ClientStatus === 'complete'), retired.map((a) => a.stub.ClientStatus).join());
  });

  test('a node going down mid-run loses no evaluation', async () => {
    const batch = await platform.request('POST', '/v1/evaluations/batch', {
      evaluations: Array.from({ length: 6 }, (_, i) => busy(2500, `survivor ${i}`)),
    });
    const ids: string[] = batch.json.items.map((e: { id: string }) => e.id);
    // Wait until some run, then take down a node that hosts a running agent.
    const victim = await until(async () => {
      const all = await Promise.all(ids.map((id) => platform.request('GET', `/v1/evaluations/${id}`)));
      if (!all.some((r) => r.json.status === 'running')) return undefined;
      return liveAgents(fake).find((a) => a.stub.ClientStatus === 'running')?.stub.NodeID;
    }, 120_000, 'an evaluation running');
    fake.state.markNodeDown(victim);
    const lost = [...fake.state.allocs.values()].filter((a) => a.stub.ClientStatus === 'lost');
    assert.ok(lost.length >= 1);
    const done = await until(
      async () => {
        const all = await Promise.all(ids.map((id) => platform.request('GET', `/v1/evaluations/${id}`)));
        return all.every((r) => ['completed', 'failed', 'cancelled'].includes(r.json.status)) ? all.map((r) => r.json) : undefined;
      },
      300_000,
      'every evaluation to finish after the node loss',
    );
    for (const ev of done) {
      assert.equal(ev.status, 'completed', JSON.stringify(ev));
      assert.equal(ev.outcome, 'success');
      assert.match(ev.stdout, /^survivor \d\n$/);
    }
    const metrics = await platform.request('GET', '/metrics');
    assert.match(metrics.text, /crucible_nomad_allocations_abnormal_total\{status="lost"\} [1-9]/);
    // Replacements were placed on the surviving node only.
    const down = fake.state.nodes.get(victim)!;
    assert.ok(liveAgents(fake).every((a) => a.stub.NodeID !== down.ID));
  });
});

describe('a restarted scheduler does not dispatch again', { timeout: 300_000 }, () => {
  test('agents dispatched before the restart keep serving; the new scheduler counts them', async () => {
    await using fake = await FakeNomad.start({ rewrite: crucibleCheckout });
    fake.state.addNode('node-1', { cpu: 8000, memoryMB: 8000 });
    // Long idle timeout: the agents outlive the scheduler's restart.
    const env = nomadEnv(fake, { NOMAD_TOKEN: '', CRUCIBLE_NOMAD_IDLE_TIMEOUT_MS: '120000', CRUCIBLE_NOMAD_MIN_AGENTS: '1', CRUCIBLE_NOMAD_LANES: 'normal' });
    const first = await Platform.start({ env });
    const ev = await runToEnd(first, { language: 'javascript', code: 'console.log("before")' });
    assert.equal(ev.stdout, 'before\n');
    await until(async () => liveAgents(fake).filter((a) => a.stub.ClientStatus === 'running').length === 1 || undefined, 30_000, 'one agent');
    const dispatchedBefore = fake.state.dispatchLog.length;
    assert.equal(dispatchedBefore, 1, 'min 1 agent, one lane: one dispatch');
    await first.stop();

    await using second = await Platform.start({ env, dataDir: first.dataDir, prefix: first.prefix });
    // Let the new scheduler run several ticks against the same cluster.
    await until(async () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length >= 8 || undefined, 60_000, 'scheduler ticks');
    const after = await runToEnd(second, { language: 'javascript', code: 'console.log("after")' });
    assert.equal(after.stdout, 'after\n');
    assert.equal(fake.state.dispatchLog.length, dispatchedBefore, 'the running agent was counted, not dispatched again');
    assert.equal(liveAgents(fake).length, 1);
    await second.stop();
    await first[Symbol.asyncDispose]();
    assert.deepEqual(fake.violations, []);
  });
});
