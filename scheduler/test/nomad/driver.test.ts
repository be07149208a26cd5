/**
 * The nomad driver against the fake Nomad, with the queue replaced by a table of lane depths so
 * each rule is seen on its own. Agents here are `sleep` processes: what is tested is what the
 * driver asks of Nomad, not the agent (e2e-nomad.test.ts runs real agents).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Priority } from '@crucible/storage/domain';
import type { AllocationListStub, Job, NodeListStub } from '../../src/nomad/api-types.js';
import { freeAgentSlots } from '../../src/nomad/capacity.js';
import { NomadClient } from '../../src/nomad/client.js';
import { executorJobFor } from '../../src/nomad/executor-job.js';
import { NomadDriver, type NomadDriverOptions } from '../../src/nomad/nomad-driver.js';
import type { LaneDepth } from '../../src/task-queue.js';
import { publishDriverStatus, readDriverStatus } from '../../src/nomad/driver-status.js';
import { FakeNomad } from './fake-nomad/fake-nomad.js';
import { until } from './helpers.js';

const silent = pino({ level: 'silent' });
const JOB = 'crucible-executor';

/** The real executor job, with the agent swapped for a process that just stays up. */
function sleeperJob(): Job {
  const job = executorJobFor({ jobId: JOB, env: { REDIS_URL: 'redis://unused' }, concurrency: 1, maxCpus: 1, maxMemoryMb: 256 });
  job.TaskGroups![0]!.Tasks![0]!.Config = { command: '/bin/sh', args: ['-c', 'sleep 120'] };
  return job;
}

class Lanes {
  depths: Record<Priority, { depth: number; running: number }> = { high: { depth: 0, running: 0 }, normal: { depth: 0, running: 0 }, low: { depth: 0, running: 0 } };
  async depths_(): Promise<LaneDepth[]> {
    return (Object.entries(this.depths) as [Priority, { depth: number; running: number }][]).map(([name, d]) => ({ name, ...d }));
  }
  source() {
    return { depths: () => this.depths_() };
  }
}

function options(overrides: Partial<NomadDriverOptions> = {}): NomadDriverOptions {
  return {
    jobId: JOB,
    lanes: ['high', 'normal', 'low'],
    policy: { min: 0, max: 10, tasksPerAgent: 1, drainTargetSeconds: 30, maxStepUp: 10 },
    idleTimeoutMs: 60_000,
    maxTasksPerAgent: 0,
    intervalMs: 100,
    jobToRegister: sleeperJob(),
    ...overrides,
  };
}

const liveChildren = (fake: FakeNomad) => [...fake.state.jobs.values()].filter((j) => j.ParentID === JOB && j.Status !== 'dead');
const laneCounts = (fake: FakeNomad) =>
  liveChildren(fake).reduce<Record<string, number>>((acc, j) => ((acc[j.Meta!.lane!] = (acc[j.Meta!.lane!] ?? 0) + 1), acc), {});

describe('freeAgentSlots', () => {
  const node = (id: string, over: Partial<NodeListStub> = {}): NodeListStub => ({
    ID: id,
    Status: 'ready',
    SchedulingEligibility: 'eligible',
    Drain: false,
    NodeResources: { Cpu: { CpuShares: 4000 }, Memory: { MemoryMB: 4096 } },
    ReservedResources: { Cpu: { CpuShares: 0 }, Memory: { MemoryMB: 96 } },
    ...over,
  });
  const alloc = (nodeId: string, status: string, mem: number): AllocationListStub => ({
    NodeID: nodeId,
    ClientStatus: status,
    AllocatedResources: { Tasks: { agent: { Cpu: { CpuShares: 100 }, Memory: { MemoryMB: mem } } } },
  });

  test('the tighter of CPU and memory, minus reservations and live allocations, over schedulable nodes only', () => {
    const ask = { cpuMhz: 1000, memoryMb: 1000 };
    assert.equal(freeAgentSlots([node('a')], [], ask), 4); // 4000 MHz → 4, 4000 MB → 4
    assert.equal(freeAgentSlots([node('a')], [alloc('a', 'running', 1000)], ask), 3);
    assert.equal(freeAgentSlots([node('a')], [alloc('a', 'complete', 1000), alloc('a', 'lost', 1000)], ask), 4, 'finished allocations free their room');
    assert.equal(freeAgentSlots([node('a', { NodeResources: { Cpu: { CpuShares: 1500 }, Memory: { MemoryMB: 8192 } } })], [], ask), 1, 'CPU binds');
    assert.equal(freeAgentSlots([node('a', { Drain: true }), node('b', { Status: 'down' }), node('c', { SchedulingEligibility: 'ineligible' })], [], ask), 0);
    assert.equal(freeAgentSlots([node('a'), node('b')], [alloc('b', 'pending', 4000)], ask), 4);
  });
});

describe('NomadDriver', () => {
  let fake: FakeNomad;
  let lanes: Lanes;
  const drivers: NomadDriver[] = [];
  const start = (overrides: Partial<NomadDriverOptions> = {}, client = new NomadClient({ address: fake.address, retryBaseMs: 20 })) => {
    const driver = new NomadDriver(options(overrides), client, lanes.source(), silent);
    drivers.push(driver);
    driver.start();
    return driver;
  };

  beforeEach(async () => {
    fake = await FakeNomad.start({ heartbeatMs: 200 });
    lanes = new Lanes();
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.stop()));
    await fake[Symbol.asyncDispose]();
    assert.deepEqual(fake.violations, []);
  });

  test('registers the executor job when Nomad lacks it, and dispatches nothing for empty lanes', async () => {
    fake.state.addNode('n1');
    const driver = start();
    await until(async () => fake.state.jobs.has(JOB) || undefined);
    await until(async () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length >= 3 || undefined);
    assert.equal(fake.state.dispatchLog.length, 0);
    assert.deepEqual(driver.status(), { ok: true, detail: `Nomad at ${fake.address}` });
  });

  test('without permission to register, a missing job is reported, not papered over', async () => {
    fake.state.addNode('n1');
    const driver = start({ jobToRegister: undefined });
    await until(async () => (driver.status().ok ? undefined : driver.status()));
    assert.match(driver.status().detail, /Nomad has no job "crucible-executor"/);
  });

  test('dispatches per lane from queue depth, high lane first, bounded by free capacity', async () => {
    // Each agent asks 1200 MHz / 512 MB; two nodes with room for two each (after reservations).
    fake.state.addNode('n1', { cpu: 2600, memoryMB: 4096 });
    fake.state.addNode('n2', { cpu: 2600, memoryMB: 4096 });
    lanes.depths.high.depth = 2;
    lanes.depths.normal.depth = 10;
    start();
    await until(async () => liveChildren(fake).length === 4 || undefined);
    // A few more ticks: still four (the cluster is full), high got its two first.
    await until(async () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length >= 10 || undefined);
    assert.deepEqual(laneCounts(fake), { high: 2, normal: 2 });
    assert.equal(fake.state.dispatchLog.length, 4);
    const meta = fake.state.dispatchLog[0]!.meta;
    assert.deepEqual(meta, { lane: 'high', max_tasks: '0', idle_timeout_ms: '60000' });
    assert.ok(fake.state.dispatchLog.every((d) => d.token.startsWith(`crucible-${d.meta.lane}-`)));
  });

  test('agents up to the lane minimum are resident (no idle timeout); the rest retire when idle', async () => {
    fake.state.addNode('n1', { cpu: 20_000, memoryMB: 20_000 });
    lanes.depths.low.depth = 3;
    start({ lanes: ['low'], policy: { min: 1, max: 10, tasksPerAgent: 1, drainTargetSeconds: 30, maxStepUp: 10 } });
    await until(async () => liveChildren(fake).length === 3 || undefined);
    assert.deepEqual(fake.state.dispatchLog.map((d) => d.meta.idle_timeout_ms), ['0', '60000', '60000']);
  });

  test('a restarted driver counts the agents Nomad runs instead of dispatching them again', async () => {
    fake.state.addNode('n1', { cpu: 20_000, memoryMB: 20_000 });
    lanes.depths.normal.depth = 3;
    const first = start();
    await until(async () => liveChildren(fake).length === 3 || undefined);
    await first.stop();
    const ticks = () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length;
    const before = ticks();
    const second = start();
    await until(async () => ticks() >= before + 5 || undefined);
    assert.equal(fake.state.dispatchLog.length, 3);
    assert.equal(second.dispatched, 0);
    // Lane of each child learnt from its dispatch meta.
    assert.ok(fake.requests.some((r) => r.url.startsWith(`/v1/job/${encodeURIComponent(`${JOB}/dispatch-`)}`)));
  });

  test('a dispatch whose answer was lost is retried with the same idempotency token: one agent, not two', async () => {
    fake.state.addNode('n1', { cpu: 20_000, memoryMB: 20_000 });
    fake.failAfterProcessing(1, /\/dispatch$/);
    lanes.depths.low.depth = 1;
    start();
    await until(async () => liveChildren(fake).length === 1 || undefined);
    await until(async () => fake.requests.filter((r) => r.url.startsWith('/v1/jobs?')).length >= 6 || undefined);
    const dispatches = fake.requests.filter((r) => r.url.includes('/dispatch?'));
    assert.equal(dispatches.length, 2, 'sent twice');
    assert.equal(new Set(dispatches.map((r) => new URL(r.url, 'http://x').searchParams.get('idempotency_token'))).size, 1, 'with one token');
    assert.equal(fake.state.dispatchLog.length, 1, 'placed once');
  });

  test('a node going down: its allocations are seen lost (event stream) and the lane gets replacements elsewhere', async () => {
    const n1 = fake.state.addNode('n1', { cpu: 2600, memoryMB: 4096 });
    lanes.depths.normal.depth = 2;
    const driver = start();
    await until(async () => fake.state.liveAllocs().filter((a) => a.stub.ClientStatus === 'running').length === 2 || undefined);
    fake.state.addNode('n2', { cpu: 2600, memoryMB: 4096 });
    fake.state.markNodeDown(n1.ID);
    await until(async () => (driver.lostAllocations >= 2 ? true : undefined));
    await until(async () => fake.state.liveAllocs().filter((a) => a.stub.ClientStatus === 'running' && a.stub.NodeName === 'n2').length === 2 || undefined);
    assert.ok(fake.requests.some((r) => r.url.startsWith('/v1/event/stream?')));
  });

  test('without the event stream, allocations are followed by blocking queries', async () => {
    const n1 = fake.state.addNode('n1', { cpu: 2600, memoryMB: 4096 });
    fake.failNext(100, 403, 'Permission denied', /\/v1\/event\/stream$/);
    lanes.depths.normal.depth = 1;
    const driver = start();
    await until(async () => fake.state.liveAllocs().filter((a) => a.stub.ClientStatus === 'running').length === 1 || undefined);
    fake.state.markNodeDown(n1.ID);
    await until(async () => (driver.lostAllocations >= 1 ? true : undefined));
    assert.ok(fake.requests.some((r) => /^\/v1\/allocations\?index=\d+&wait=/.test(r.url)));
  });

  test('Nomad unreachable: status says so and the driver backs off; it recovers when Nomad is back', async () => {
    fake.state.addNode('n1', { cpu: 20_000, memoryMB: 20_000 });
    const driver = start({}, new NomadClient({ address: fake.address, retries: 0 }));
    await until(async () => (driver.status().detail.startsWith('Nomad at') ? true : undefined));
    await fake.pause();
    await until(async () => (driver.status().ok ? undefined : true));
    assert.match(driver.status().detail, /unreachable/);
    await fake.resume();
    lanes.depths.normal.depth = 1;
    await until(async () => (driver.status().ok && liveChildren(fake).length === 1 ? true : undefined), 60_000);
  });
});

describe('the driver status shared through Redis (gateway with an external scheduler)', () => {
  test('ok while Nomad answers, not ok when it does not, and not ok when no scheduler reports', async () => {
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
    await using fake = await FakeNomad.start();
    fake.state.addNode('n1');
    const driver = new NomadDriver(
      options({ onStatus: (s) => publishDriverStatus(redis, prefix, s) }),
      new NomadClient({ address: fake.address, retries: 0 }),
      new Lanes().source(),
      silent,
    );
    try {
      assert.equal((await readDriverStatus(redis, prefix)).ok, false, 'nothing reported yet');
      assert.match((await readDriverStatus(redis, prefix)).detail, /is the scheduler running/);
      driver.start();
      await until(async () => ((await readDriverStatus(redis, prefix)).ok ? true : undefined));
      assert.match((await readDriverStatus(redis, prefix)).detail, /^Nomad at http:\/\/127\.0\.0\.1:\d+ \(scheduler, /);
      await fake.pause();
      await until(async () => ((await readDriverStatus(redis, prefix)).ok ? undefined : true));
      assert.match((await readDriverStatus(redis, prefix)).detail, /unreachable/);
    } finally {
      await driver.stop();
      await redis.del(`${prefix}:driver-status`);
      redis.disconnect();
    }
    assert.deepEqual(fake.violations, []);
  });
});
