import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import { PRIORITIES, type Priority, type Task } from '@crucible/storage/domain';
import { CANCEL_MARK_TTL_SECONDS, laneQueueSettings, type RedisKeys } from '@crucible/executor-agent/protocol';

export interface LaneDepth {
  name: Priority;
  depth: number;
  running: number;
}

export interface TaskQueueOptions {
  redisUrl: string;
  keys: RedisKeys;
  /** Platform-fault retries before a task is failed (the program's own failures are never retried). */
  retries: number;
  retryBackoffMs: number;
}

/**
 * The producer side of the lanes: one bee-queue queue per priority. The job id is the
 * evaluation id, so enqueueing an evaluation twice (e.g. by a reconciler) creates one job.
 */
export class TaskQueue {
  private readonly lanes = new Map<Priority, BeeQueue<Task>>();

  constructor(
    private readonly opts: TaskQueueOptions,
    private readonly redis: Redis,
  ) {
    for (const p of PRIORITIES) this.lanes.set(p, this.openLane(p));
  }

  private openLane(priority: Priority): BeeQueue<Task> {
    const { name, settings } = laneQueueSettings(this.opts.keys, this.opts.redisUrl, priority);
    const queue = new BeeQueue<Task>(name, {
      ...settings,
      // bee-queue otherwise keeps every job it created in memory until an event it never gets here
      // (getEvents is off) removes it: memory grows with every enqueue, and `getJob` answers from
      // that cache, so a job Redis lost would still look present to the reconciler.
      storeJobs: false,
    });
    // Errors surface on the calls that hit them; an unhandled 'error' event would crash the process.
    queue.on('error', () => undefined);
    return queue;
  }

  async ready(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((q) => q.ready()));
  }

  /**
   * Enqueues the task in its lane (job id = evaluation id, so a second enqueue is a no-op) and
   * wakes idle agents. `fresh` restarts the attempt count (a dead letter being retried).
   * `retries` platform-fault retries are allowed; agents back off exponentially with jitter.
   */
  async enqueue(task: Task, priority: Priority, options: { fresh?: boolean } = {}): Promise<void> {
    if (options.fresh) await this.redis.del(this.opts.keys.attempts(task.evaluationId));
    await this.withScripts(priority, (lane) =>
      lane.createJob(task).setId(task.evaluationId).retries(this.opts.retries).backoff('exponential', this.opts.retryBackoffMs).save(),
    );
    await this.redis.publish(this.opts.keys.wake, priority);
  }

  /** Tasks waiting (not running) in all lanes together: what backpressure limits. */
  async waiting(): Promise<number> {
    const multi = this.redis.multi();
    for (const p of PRIORITIES) multi.llen(this.opts.keys.lane(p, 'waiting')).zcard(this.opts.keys.lane(p, 'delayed'));
    const res = (await multi.exec()) ?? [];
    return res.reduce((sum, [err, n]) => sum + (err ? 0 : Number(n)), 0);
  }

  /**
   * bee-queue loads its Lua scripts once, at connect; a Redis that restarted empty then answers
   * NOSCRIPT to every call. Reopening the lane loads them again.
   */
  private async withScripts<T>(priority: Priority, call: (lane: BeeQueue<Task>) => Promise<T>): Promise<T> {
    try {
      return await call(this.lane(priority));
    } catch (err) {
      if (!/NOSCRIPT/.test(String((err as Error)?.message))) throw err;
      const old = this.lane(priority);
      const fresh = this.openLane(priority);
      this.lanes.set(priority, fresh);
      void old.close(100).catch(() => undefined);
      await fresh.ready();
      return call(fresh);
    }
  }

  /**
   * Announces a cancellation: marks the id (so an agent that pops it later skips it), removes a
   * waiting job and tells agents to kill a running sandbox. Safe to call more than once.
   */
  async cancel(evaluationId: string, priority: Priority): Promise<void> {
    const { keys } = this.opts;
    await this.redis.set(keys.cancelled(evaluationId), '1', 'EX', CANCEL_MARK_TTL_SECONDS);
    await this.redis.publish(keys.cancelChannel, evaluationId);
    await this.withScripts(priority, (lane) => lane.removeJob(evaluationId)).catch(() => undefined);
  }

  /** Whether a lane still holds the task (waiting, delayed or active). */
  async has(evaluationId: string, priority: Priority): Promise<boolean> {
    return (await this.lane(priority).getJob(evaluationId)) != null;
  }

  async depths(): Promise<LaneDepth[]> {
    return Promise.all(
      PRIORITIES.map(async (name) => {
        const health = await this.lane(name).checkHealth();
        return { name, depth: health.waiting + health.delayed, running: health.active };
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((q) => q.close().catch(() => undefined)));
  }

  private lane(priority: Priority): BeeQueue<Task> {
    const q = this.lanes.get(priority);
    if (!q) throw new Error(`unknown lane ${priority}`);
    return q;
  }
}
