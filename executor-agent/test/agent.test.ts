import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import BeeQueue from 'bee-queue';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { DEFAULT_LIMITS, type RuntimeKind, type Task } from '@crucible/storage/domain';
import { Agent } from '../src/agent.js';
import { decodeReport, outputBytes, redisKeys, type AgentHeartbeat, type AgentReport } from '../src/protocol/index.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { WasmSandbox } from '../src/sandbox/wasm/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The agent against real Redis and the real Wasm sandbox; tasks are enqueued as the scheduler does. */
describe('Agent (real Redis, real Wasm sandbox)', () => {
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  const redis = new Redis(REDIS_URL);
  let agent: Agent;
  let lane: BeeQueue<Task>;
  // The connections handed to agents are ours to close (an agent closes only those it opens).
  const connections: Redis[] = [];
  const connection = () => {
    const c = redis.duplicate();
    connections.push(c);
    return c;
  };

  before(async () => {
    const sandboxes = new Map<RuntimeKind, Sandbox>([['wasm', new WasmSandbox()]]);
    agent = new Agent(
      { id: 'agent-under-test', node: 'test-node', lanes: ['normal'], concurrency: 2, redisUrl: REDIS_URL, keys, stallIntervalMs: 2000 },
      connection(),
      sandboxes,
      pino({ level: 'silent' }),
    );
    await agent.start();
    lane = new BeeQueue<Task>(keys.laneQueue('normal'), { prefix: keys.queuePrefix, redis: { url: REDIS_URL } as never, isWorker: false, getEvents: false });
    await lane.ready();
  });

  after(async () => {
    await agent.stop(1000);
    await lane.close();
    const left = await redis.keys(`${prefix}*`);
    if (left.length) await redis.del(...left);
    for (const c of connections) c.disconnect();
    redis.disconnect();
  });

  const task = (code: string, runtime: RuntimeKind = 'wasm', timeoutMs = 5000): Task => ({
    evaluationId: randomUUID(),
    language: 'javascript',
    runtime,
    files: [{ name: 'main.js', content: code, encoding: 'utf8' }],
    stdin: '',
    args: [],
    limits: { ...DEFAULT_LIMITS, timeoutMs },
  });

  async function reportsFor(id: string, until: (r: AgentReport[]) => boolean, ms = 15_000): Promise<AgentReport[]> {
    const end = Date.now() + ms;
    for (;;) {
      const entries = (await redis.xrange(keys.reports, '-', '+')) as [string, string[]][];
      const mine = entries.map(([, f]) => decodeReport(f)!).filter((r) => r.evaluationId === id);
      if (until(mine)) return mine;
      if (Date.now() > end) throw new Error(`reports for ${id}: ${JSON.stringify(mine)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('publishes a heartbeat with its languages', async () => {
    const beat = JSON.parse((await redis.hget(keys.agents, 'agent-under-test'))!) as AgentHeartbeat;
    assert.deepEqual(beat.lanes, ['normal']);
    assert.equal(beat.node, 'test-node');
    assert.ok(beat.languages.some((l) => l.id === 'javascript' && l.available));
  });

  it('runs a task and reports running, output and result in order', async () => {
    const t = task('console.log("one"); console.log("two")');
    await lane.createJob(t).setId(t.evaluationId).save();
    const reports = await reportsFor(t.evaluationId, (r) => r.some((x) => x.type === 'result'));
    assert.deepEqual(reports.map((r) => r.type).filter((x, i, a) => x !== 'output' || a[i - 1] !== 'output'), ['status', 'output', 'result']);
    const result = reports.at(-1) as Extract<AgentReport, { type: 'result' }>;
    assert.equal(result.result.stdout, 'one\ntwo\n');
    assert.equal(Buffer.concat(reports.flatMap((r) => (r.type === 'output' ? [outputBytes(r)] : []))).toString(), 'one\ntwo\n');
  });

  it('skips a task cancelled before it was picked up', async () => {
    const t = task('console.log("must not run")');
    await redis.set(keys.cancelled(t.evaluationId), '1');
    await lane.createJob(t).setId(t.evaluationId).save();
    // Only the agent's consumer removes a job from its lane (once it has handled it): wait for
    // that, so "no reports" is about a task that was taken, not one still waiting.
    const taken = async () => (await redis.hexists(keys.lane('normal', 'jobs'), t.evaluationId)) === 0
      && !(await redis.lrange(keys.lane('normal', 'waiting'), 0, -1)).includes(t.evaluationId)
      && !(await redis.lrange(keys.lane('normal', 'active'), 0, -1)).includes(t.evaluationId);
    const end = Date.now() + 15_000;
    while (!(await taken())) {
      assert.ok(Date.now() < end, 'the agent never took the cancelled task from its lane');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await reportsFor(t.evaluationId, () => true), []);
  });

  it('kills a running task when its cancellation is announced', async () => {
    const t = task('while (true) {}', 'wasm', 20_000);
    await lane.createJob(t).setId(t.evaluationId).save();
    await reportsFor(t.evaluationId, (r) => r.some((x) => x.type === 'status'));
    await redis.publish(keys.cancelChannel, t.evaluationId);
    const reports = await reportsFor(t.evaluationId, (r) => r.some((x) => x.type === 'result'), 5000);
    assert.equal((reports.at(-1) as Extract<AgentReport, { type: 'result' }>).result.outcome, 'killed');
  });

  it('reports a platform fault, saying whether the queue retries it', async () => {
    const t = task('console.log(1)', 'container'); // this agent has no container sandbox
    await lane.createJob(t).setId(t.evaluationId).retries(1).backoff('fixed', 10).save();
    const reports = await reportsFor(t.evaluationId, (r) => r.filter((x) => x.type === 'fault').length === 2);
    const faults = reports.filter((r) => r.type === 'fault') as Extract<AgentReport, { type: 'fault' }>[];
    assert.deepEqual(faults.map((f) => f.retrying), [true, false]);
    assert.match(faults[0]!.error, /no container sandbox/);
  });

  it('on graceful shutdown finishes short tasks and hands long ones back to their lane unrun', async () => {
    const stopping = new Agent(
      { id: 'agent-stopping', node: 'test-node', lanes: ['low'], concurrency: 2, redisUrl: REDIS_URL, keys, stallIntervalMs: 2000 },
      connection(),
      new Map<RuntimeKind, Sandbox>([['wasm', new WasmSandbox()]]),
      pino({ level: 'silent' }),
    );
    await stopping.start();
    const low = new BeeQueue<Task>(keys.laneQueue('low'), { prefix: keys.queuePrefix, redis: { url: REDIS_URL } as never, isWorker: false, getEvents: false });
    await low.ready();
    const short = task('const end = Date.now() + 300; while (Date.now() < end) {} console.log("short")');
    const long = task('while (true) {}', 'wasm', 30_000);
    await low.createJob(short).setId(short.evaluationId).save();
    await low.createJob(long).setId(long.evaluationId).save();
    await reportsFor(long.evaluationId, (r) => r.some((x) => x.type === 'status'));
    await reportsFor(short.evaluationId, (r) => r.some((x) => x.type === 'status'));
    await stopping.stop(1000);
    const shortReports = await reportsFor(short.evaluationId, (r) => r.some((x) => x.type === 'result'));
    assert.equal((shortReports.at(-1) as Extract<AgentReport, { type: 'result' }>).result.stdout, 'short\n');
    const longReports = await reportsFor(long.evaluationId, () => true);
    assert.ok(!longReports.some((r) => r.type === 'result' || r.type === 'fault'), 'a handed-back task reports nothing');
    assert.deepEqual(await redis.lrange(keys.lane('low', 'waiting'), 0, -1), [long.evaluationId], 'back in its lane');
    assert.equal(await redis.llen(keys.lane('low', 'active')), 0);
    assert.equal(await redis.get(keys.attempts(long.evaluationId)), '0', 'the hand-back is not an attempt');
    await low.removeJob(long.evaluationId);
    await low.close();
  });
});
