import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Priority, Task } from '@crucible/storage/domain';
import { laneOrder } from './lane-order.js';
import { ATTEMPTS_TTL_SECONDS, laneQueueSettings, type RedisKeys } from './protocol/index.js';

/** One task handed to this agent: its lane, and which attempt this is of how many allowed. */
export interface Delivery {
  lane: Priority;
  task: Task;
  /** 1 for the first delivery; counts re-deliveries after faults, lost agents and stalls. */
  attempt: number;
  maxAttempts: number;
  /** Base of the exponential retry backoff (the job's bee-queue backoff delay). */
  backoffMs: number;
}

/** What the handler decided: the task is finished (whatever its result), retried later, or handed back unrun. */
export type Disposition = { kind: 'done' } | { kind: 'retry'; delayMs: number } | { kind: 'handBack' };

export interface LaneConsumerOptions {
  lanes: Priority[];
  /** Tasks this agent runs at once, across all its lanes. */
  slots: number;
  keys: RedisKeys;
  redisUrl: string;
  stallIntervalMs: number;
  /** Idle agents look again at least this often even without a wake-up (delayed retries, lost messages). */
  pollMs: number;
}

/**
 * Takes an agent's tasks from its lanes in priority order (lane-order.ts) — not all lanes at once,
 * as bee-queue's `process()` per queue would. The lanes stay bee-queue queues: the producer,
 * `removeJob`, the stall check and delayed-retry promotion are bee-queue's; taking and finishing
 * a task are done here on the same keys, with the semantics of bee-queue's worker:
 *
 * - take: one Lua script (TAKE_SCRIPT) moves the next id from the first non-empty `waiting` list,
 *   in the order of `laneOrder`, to that lane's `active` list, atomically;
 * - while it runs, the id is removed from `stalling` every half stall interval, so the stall check
 *   (run by every agent) hands it to another agent only if this one stops;
 * - finish: one MULTI removes it from `active`, then deletes the job (done), schedules it in
 *   `delayed` (retry) or pushes it back to the consumer end of `waiting` (hand back on shutdown).
 */
export class LaneConsumer {
  private picks = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly idlers = new Set<() => void>();
  private readonly lanes = new Map<Priority, BeeQueue<Task>>();
  private readonly rebuilding = new Set<Priority>();
  private busy = 0;

  constructor(
    private readonly redis: Redis,
    private readonly opts: LaneConsumerOptions,
    private readonly handler: (delivery: Delivery) => Promise<Disposition>,
    private readonly log: Logger,
  ) {
    this.redis.defineCommand('crucibleTake', { lua: TAKE_SCRIPT });
  }

  /** Tasks being run now. */
  get running(): number {
    return this.busy;
  }

  async start(): Promise<void> {
    await Promise.all(this.opts.lanes.map((lane) => this.openLane(lane)));
    for (let i = 0; i < this.opts.slots; i++) this.loops.push(this.loop());
  }

  /** Something was enqueued: idle slots look at once. */
  wake(): void {
    for (const wake of [...this.idlers]) wake();
  }

  /** Stops taking tasks; resolves when every running task has been disposed of. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all(this.loops);
    await Promise.all([...this.lanes.values()].map((q) => q.close(1000).catch(() => undefined)));
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let taken: { lane: Priority; id: string } | undefined;
      try {
        taken = await this.take();
      } catch (err) {
        this.log.warn({ err }, 'taking a task failed; retrying');
        await this.idle(1000);
        continue;
      }
      if (!taken) {
        await this.idle(this.opts.pollMs);
        continue;
      }
      this.busy++;
      try {
        await this.run(taken.lane, taken.id);
      } catch (err) {
        // Left in `active`: the stall check hands it to another agent.
        this.log.error({ err, evaluationId: taken.id }, 'task bookkeeping failed; the stall check will recover it');
      } finally {
        this.busy--;
      }
    }
  }

  private async take(): Promise<{ lane: Priority; id: string } | undefined> {
    const order = laneOrder(this.picks, this.opts.lanes);
    const keys = order.flatMap((lane) => [this.opts.keys.lane(lane, 'waiting'), this.opts.keys.lane(lane, 'active')]);
    const res = (await (this.redis as unknown as TakeCommand).crucibleTake(keys.length, ...keys)) as [number, string] | null;
    if (!res) return undefined;
    this.picks++;
    return { lane: order[res[0] - 1]!, id: res[1] };
  }

  private idle(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idlers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.idlers.add(done);
    });
  }

  private async run(lane: Priority, id: string): Promise<void> {
    const key = (part: Parameters<RedisKeys['lane']>[1]) => this.opts.keys.lane(lane, part);
    const raw = await this.redis.hget(key('jobs'), id);
    if (!raw) {
      // Removed (cancelled) after it was taken, or Redis lost the job: PostgreSQL's reconciler owns it now.
      await this.redis.lrem(key('active'), 0, id);
      return;
    }
    const job = JSON.parse(raw) as { data: Task; options?: { retries?: number; backoff?: { delay?: number } } };
    const keepAlive = () => void this.redis.srem(key('stalling'), id).catch(() => undefined);
    keepAlive();
    const timer = setInterval(keepAlive, Math.max(100, this.opts.stallIntervalMs / 2));
    try {
      const attemptsKey = this.opts.keys.attempts(id);
      const counted = await this.redis.multi().incr(attemptsKey).expire(attemptsKey, ATTEMPTS_TTL_SECONDS).exec();
      const attempt = Number(counted?.[0]?.[1] ?? 1);
      const disposition = await this.handler({
        lane,
        task: job.data,
        attempt,
        maxAttempts: Math.max(0, Number(job.options?.retries ?? 0)) + 1,
        backoffMs: Number(job.options?.backoff?.delay ?? 1000),
      });
      await this.finish(lane, id, disposition);
    } finally {
      clearInterval(timer);
    }
  }

  private async finish(lane: Priority, id: string, disposition: Disposition): Promise<void> {
    const key = (part: Parameters<RedisKeys['lane']>[1]) => this.opts.keys.lane(lane, part);
    const multi = this.redis.multi().lrem(key('active'), 0, id).srem(key('stalling'), id);
    if (disposition.kind === 'done') {
      multi.hdel(key('jobs'), id).del(this.opts.keys.attempts(id));
    } else if (disposition.kind === 'retry') {
      const at = Date.now() + disposition.delayMs;
      // bee-queue's delayed set; `earlierDelayed` tells the queues' timers to promote it on time.
      multi.zadd(key('delayed'), at, id).publish(key('earlierDelayed'), String(at));
    } else {
      // Handed back unrun (shutdown): next in line, and the delivery does not count as an attempt.
      multi.rpush(key('waiting'), id).decr(this.opts.keys.attempts(id));
    }
    await multi.exec();
    if (disposition.kind !== 'done') this.wake();
  }

  /** A bee-queue queue per lane, for the stall check and for promoting delayed retries. */
  private async openLane(lane: Priority): Promise<void> {
    const { name, settings } = laneQueueSettings(this.opts.keys, this.opts.redisUrl, lane);
    const queue = new BeeQueue<Task>(name, { ...settings, stallInterval: this.opts.stallIntervalMs });
    queue.on('error', (err: Error) => {
      // bee-queue loads its scripts once; a Redis that restarted empty answers NOSCRIPT forever.
      if (/NOSCRIPT/.test(String(err?.message))) void this.reopenLane(lane, queue);
      else this.log.warn({ err, lane }, 'lane queue error');
    });
    await queue.ready();
    void queue.checkStalledJobs(this.opts.stallIntervalMs);
    this.lanes.set(lane, queue);
  }

  private async reopenLane(lane: Priority, old: BeeQueue<Task>): Promise<void> {
    if (this.stopping || this.rebuilding.has(lane) || this.lanes.get(lane) !== old) return;
    this.rebuilding.add(lane);
    this.log.warn({ lane }, 'Redis lost the queue scripts (restarted?); reopening the lane');
    try {
      await old.close(100).catch(() => undefined);
      await this.openLane(lane);
    } catch (err) {
      this.log.error({ err, lane }, 'reopening the lane failed');
    } finally {
      this.rebuilding.delete(lane);
    }
  }
}

interface TakeCommand {
  crucibleTake(numKeys: number, ...keys: string[]): Promise<unknown>;
}

/**
 * take: moves the next task id to `active`, from the first lane (in the caller's order) with one waiting.
 *   KEYS[2i-1], KEYS[2i]: lane i's `waiting` and `active` lists, in the order to look at them
 *   returns {i, job id} (i counts lanes from 1), or nil when every lane is empty
 * `waiting` is consumed from its right end, as bee-queue's worker does (producers LPUSH).
 * Run through ioredis's defineCommand, which reloads the script if Redis has lost it.
 */
const TAKE_SCRIPT = `
for i = 1, #KEYS, 2 do
  local id = redis.call('rpoplpush', KEYS[i], KEYS[i + 1])
  if id then return {(i + 1) / 2, id} end
end
return nil
`;
