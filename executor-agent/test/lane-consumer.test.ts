import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import BeeQueue from 'bee-queue';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { DEFAULT_LIMITS, PRIORITIES, type Priority, type Task } from '@crucible/storage/domain';
import { LaneConsumer, type Delivery, type Disposition } from '../src/lane-consumer.js';
import { redisKeys } from '../src/protocol/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = pino({ level: 'silent' });

/** Real Redis, a unique prefix, producers exactly as the scheduler's TaskQueue makes them. */
async function setup() {
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  const redis = new Redis(REDIS_URL);
  const producers = new Map(
    PRIORITIES.map((p) => [p, new BeeQueue<Task>(keys.laneQueue(p), { prefix: keys.queuePrefix, redis: { url: REDIS_URL } as never, isWorker: false, getEvents: false, sendEvents: false })]),
  );
  await Promise.all([...producers.values()].map((q) => q.ready()));
  const enqueue = async (lane: Priority, retries = 0) => {
    const task: Task = { evaluationId: randomUUID(), language: 'javascript', runtime: 'wasm', files: [], stdin: '', args: [], limits: { ...DEFAULT_LIMITS } };
    await producers.get(lane)!.createJob(task).setId(task.evaluationId).retries(retries).backoff('exponential', 20).save();
    return task.evaluationId;
  };
  // A consumer uses the connection it is given and leaves closing it to its owner: here, dispose.
  const connections: Redis[] = [];
  const consumer = (handler: (d: Delivery) => Promise<Disposition>, stallIntervalMs = 5000, slots = 1) => {
    const connection = redis.duplicate();
    connections.push(connection);
    return new LaneConsumer(connection, { lanes: [...PRIORITIES], slots, keys, redisUrl: REDIS_URL, stallIntervalMs, pollMs: 100 }, handler, silent);
  };
  return {
    keys,
    redis,
    enqueue,
    consumer,
    async [Symbol.asyncDispose]() {
      await Promise.all([...producers.values()].map((q) => q.close()));
      const left = await redis.keys(`${prefix}*`);
      if (left.length) await redis.del(...left);
      for (const c of connections) c.disconnect();
      redis.disconnect();
    },
  };
}

const until = async (check: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('LaneConsumer (real Redis, bee-queue lanes)', () => {
  it('serves a saturated agent by priority, keeping a reserved share for lower lanes', async () => {
    await using f = await setup();
    const lanes = new Map<string, Priority>();
    for (const lane of ['low', 'normal', 'high'] as const) for (let i = 0; i < 10; i++) lanes.set(await f.enqueue(lane), lane);
    const order: Priority[] = [];
    const consumer = f.consumer(async ({ task, lane }) => {
      assert.equal(lanes.get(task.evaluationId), lane);
      order.push(lane);
      return { kind: 'done' };
    });
    await consumer.start();
    await until(() => order.length === 30);
    await consumer.stop();
    // Enqueued low first, yet high comes first; normal gets pick 3, low pick 9 (not starved).
    assert.deepEqual(order.slice(0, 10), ['high', 'high', 'high', 'normal', 'high', 'high', 'high', 'normal', 'high', 'low']);
    const meanIndex = (lane: Priority) => order.reduce((sum, l, i) => sum + (l === lane ? i : 0), 0) / 10;
    assert.ok(meanIndex('high') < meanIndex('normal') && meanIndex('normal') < meanIndex('low'), order.join(','));
    for (const lane of PRIORITIES) assert.equal(await f.redis.hlen(f.keys.lane(lane, 'jobs')), 0, 'finished jobs are removed');
  });

  it('retries with backoff, counting attempts, then cleans up', async () => {
    await using f = await setup();
    const id = await f.enqueue('normal', 2);
    const seen: Delivery[] = [];
    const consumer = f.consumer(async (d) => {
      seen.push(d);
      return d.attempt < 3 ? { kind: 'retry', delayMs: 30 } : { kind: 'done' };
    });
    await consumer.start();
    await until(() => seen.length === 3);
    await consumer.stop();
    assert.deepEqual(seen.map((d) => [d.task.evaluationId, d.attempt, d.maxAttempts]), [[id, 1, 3], [id, 2, 3], [id, 3, 3]]);
    assert.equal(seen[0]!.backoffMs, 20);
    assert.equal(await f.redis.exists(f.keys.attempts(id)), 0);
    assert.equal(await f.redis.zcard(f.keys.lane('normal', 'delayed')), 0);
  });

  it('hands the task of an agent that stopped checking in to another, as its next attempt', async () => {
    await using f = await setup();
    const id = await f.enqueue('high', 2);
    // A first agent takes it and dies without a word (no keep-alive, no finish).
    let dead!: () => void;
    const first = f.consumer(async () => {
      await new Promise<void>((resolve) => (dead = resolve));
      throw new Error('never finishes');
    }, 300);
    await first.start();
    await until(() => dead !== undefined);
    // Simulate the process dying: its connection goes, its keep-alive stops.
    (first as unknown as { redis: Redis }).redis.disconnect();
    (first as unknown as { opts: { stallIntervalMs: number } }).opts.stallIntervalMs = 1e9;
    const seen: Delivery[] = [];
    const second = f.consumer(async (d) => (seen.push(d), { kind: 'done' }), 300);
    await second.start();
    await until(() => seen.length === 1);
    await second.stop();
    dead();
    await first.stop(); // the "dead" one's loops still poll (and fail) until stopped
    assert.equal(seen[0]!.task.evaluationId, id);
    assert.equal(seen[0]!.attempt, 2, 'the lost delivery counted as attempt 1');
  });
});
