/**
 * `npm run bench:queue`: the queue itself (real Redis, the lanes as the platform uses them: the
 * scheduler's TaskQueue producing, an agent's LaneConsumer taking and finishing, no sandbox), so
 * the figures are the queue's own cost. Compares a drain with 10 000 tasks queued against the same
 * work with the queue kept nearly empty, and measures memory with 100 000 queued. Progress goes to
 * stderr, the report (markdown) to stdout. See bench/RESULTS.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LaneConsumer, redisKeys } from '@crucible/executor-agent';
import { TaskQueue } from '@crucible/scheduler';
import { DEFAULT_LIMITS, type Task } from '@crucible/storage/domain';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DEEP = Number(process.env.BENCH_QUEUE_DEEP ?? 10_000);
const HUGE = Number(process.env.BENCH_QUEUE_HUGE ?? 100_000);
const SLOTS = 4;
const progress = (msg: string) => process.stderr.write(`bench:queue: ${msg}\n`);

const task = (): Task => ({
  evaluationId: randomUUID(),
  language: 'javascript',
  runtime: 'wasm',
  files: [{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }],
  stdin: '',
  args: [],
  limits: { ...DEFAULT_LIMITS },
});

interface Run {
  tasksPerSecond: number;
  /** Per task: enqueue → handler start, ms. */
  latency: number[];
}

async function withQueue<T>(fn: (queue: TaskQueue, consume: (onTask: (t: Task) => void) => LaneConsumer, redis: Redis, prefix: string) => Promise<T>): Promise<T> {
  const prefix = `crucible-bench-${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  const redis = new Redis(REDIS_URL);
  const queue = new TaskQueue({ redisUrl: REDIS_URL, keys, retries: 2, retryBackoffMs: 1000 }, redis);
  await queue.ready();
  const consumers: LaneConsumer[] = [];
  // Idle consumers are woken as an agent's are: by the producer's publish on the wake channel.
  const wakeSub = redis.duplicate();
  await wakeSub.subscribe(keys.wake);
  wakeSub.on('message', () => consumers.forEach((c) => c.wake()));
  const consume = (onTask: (t: Task) => void) => {
    const c = new LaneConsumer(redis.duplicate(), { lanes: ['high', 'normal', 'low'], slots: SLOTS, keys, redisUrl: REDIS_URL, stallIntervalMs: 5000, pollMs: 1000 }, async ({ task }) => {
      onTask(task);
      return { kind: 'done' };
    }, pino({ level: 'silent' }));
    consumers.push(c);
    return c;
  };
  try {
    return await fn(queue, consume, redis, prefix);
  } finally {
    await Promise.all(consumers.map((c) => c.stop()));
    wakeSub.disconnect();
    await queue.close();
    for (;;) {
      const [, batch] = await redis.scan('0', 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (batch.length === 0) break;
      await redis.del(...batch);
    }
    redis.disconnect();
  }
}

/** `count` tasks through the queue, `SLOTS` in flight, with `backlog` more queued ahead of them (or none). */
async function drain(count: number, backlog: number): Promise<Run> {
  return withQueue(async (queue, consume) => {
    const enqueuedAt = new Map<string, number>();
    for (let i = 0; i < backlog; i++) await queue.enqueue(task(), 'normal');
    const latency: number[] = [];
    let done = 0;
    let finished!: () => void;
    const all = new Promise<void>((r) => (finished = r));
    const consumer = consume((t) => {
      const at = enqueuedAt.get(t.evaluationId);
      if (at !== undefined) latency.push(performance.now() - at);
      if (++done === count + backlog) finished();
    });
    const started = performance.now();
    await consumer.start();
    // The measured tasks go in with the backlog still there (deep) or into an empty queue.
    for (let i = 0; i < count; i++) {
      const t = task();
      enqueuedAt.set(t.evaluationId, performance.now());
      await queue.enqueue(t, 'high');
    }
    await all;
    const seconds = (performance.now() - started) / 1000;
    return { tasksPerSecond: (count + backlog) / seconds, latency };
  });
}

async function memoryAt(n: number): Promise<{ heapMb: number; rssMb: number; redisMb: number; depthMs: number }> {
  return withQueue(async (queue, _consume, redis) => {
    const info = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]) / 2 ** 20;
    const redisBefore = await info();
    for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, () => queue.enqueue(task(), 'low')));
    global.gc?.();
    const mem = process.memoryUsage();
    const t0 = performance.now();
    const waiting = await queue.waiting();
    const depthMs = performance.now() - t0;
    if (waiting !== n) throw new Error(`expected ${n} waiting, saw ${waiting}`);
    return { heapMb: mem.heapUsed / 2 ** 20, rssMb: mem.rss / 2 ** 20, redisMb: (await info()) - redisBefore, depthMs };
  });
}

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  const count = 2000;
  progress(`empty queue: ${count} tasks`);
  const empty = await drain(count, 0);
  progress(`deep queue: ${count} tasks with ${DEEP} queued`);
  const deep = await drain(count, DEEP);
  progress(`memory with ${HUGE} queued`);
  const memory = await memoryAt(HUGE);
  const e = percentiles(empty.latency);
  const d = percentiles(deep.latency);
  const lines = [
    `## Queue: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- host load (1-min average) at start / end: ${load.toFixed(2)} / ${loadavg()[0]!.toFixed(2)}; ${SLOTS} slots in one consumer, no-op tasks`,
    '',
    '| case | drain throughput (tasks/s) | p50 enqueue → start (ms) | p99 enqueue → start (ms) |',
    '| --- | ---: | ---: | ---: |',
    `| empty queue (${count} tasks) | ${empty.tasksPerSecond.toFixed(0)} | ${e.p50.toFixed(1)} | ${e.p99.toFixed(1)} |`,
    `| ${DEEP} queued in \`normal\`, ${count} measured in \`high\` | ${deep.tasksPerSecond.toFixed(0)} | ${d.p50.toFixed(1)} | ${d.p99.toFixed(1)} |`,
    `| ratio deep / empty | ${(deep.tasksPerSecond / empty.tasksPerSecond).toFixed(2)}× | ${(d.p50 / e.p50).toFixed(2)}× | ${(d.p99 / e.p99).toFixed(2)}× |`,
    '',
    `With ${HUGE} tasks queued: the scheduler process (TaskQueue) holds ${memory.heapMb.toFixed(0)} MiB heap / ${memory.rssMb.toFixed(0)} MiB RSS ` +
      `(the queue lives in Redis, not in the scheduler); Redis grew by ${memory.redisMb.toFixed(0)} MiB ` +
      `(${((memory.redisMb * 2 ** 20) / HUGE).toFixed(0)} B per task, code included); reading the depth took ${memory.depthMs.toFixed(1)} ms.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { p50: at(50), p99: at(99) };
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:queue failed: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
