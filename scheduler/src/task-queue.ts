import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import { PRIORITIES, type Priority, type Task } from '@crucible/storage/domain';
import { CANCEL_MARK_TTL_SECONDS, type RedisKeys } from '@crucible/executor-agent/protocol';

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
  private readonly lanes: ReadonlyMap<Priority, BeeQueue<Task>>;

  constructor(
    private readonly opts: TaskQueueOptions,
    private readonly redis: Redis,
  ) {
    this.lanes = new Map(
      PRIORITIES.map((p) => [
        p,
        new BeeQueue<Task>(opts.keys.laneQueue(p), {
          prefix: opts.keys.queuePrefix,
          redis: { url: opts.redisUrl } as never,
          isWorker: false,
          getEvents: false,
          sendEvents: false,
          activateDelayedJobs: true,
        }),
      ]),
    );
  }

  async ready(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((q) => q.ready()));
  }

  async enqueue(task: Task, priority: Priority): Promise<void> {
    await this.lane(priority)
      .createJob(task)
      .setId(task.evaluationId)
      .retries(this.opts.retries)
      .backoff('exponential', this.opts.retryBackoffMs)
      .save();
  }

  /**
   * Announces a cancellation: marks the id (so an agent that pops it later skips it), removes a
   * waiting job and tells agents to kill a running sandbox. Safe to call more than once.
   */
  async cancel(evaluationId: string, priority: Priority): Promise<void> {
    const { keys } = this.opts;
    await this.redis.set(keys.cancelled(evaluationId), '1', 'EX', CANCEL_MARK_TTL_SECONDS);
    await this.redis.publish(keys.cancelChannel, evaluationId);
    await this.lane(priority).removeJob(evaluationId).catch(() => undefined);
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
