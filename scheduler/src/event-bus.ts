import type { Redis } from 'ioredis';
import type { EvaluationEvent } from '@crucible/storage/domain';
import type { RedisKeys } from '@crucible/executor-agent/protocol';

type Listener = (event: EvaluationEvent) => void;

/**
 * Live evaluation events over Redis pub/sub. Only events already persisted are published, each
 * with its `seq`, so a watcher can replay from storage and then follow without gaps or repeats.
 * All followers in a process share one subscriber connection.
 */
export class EventBus {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async publish(event: EvaluationEvent): Promise<void> {
    await this.redis.publish(this.keys.events(event.evaluationId), JSON.stringify(event));
  }

  /**
   * Publishes a status change to the evaluation's watchers and to its owner's live feed (output
   * goes to the evaluation's channel only: a list needs statuses, not every chunk).
   */
  async publishStatus(event: EvaluationEvent, owner: string): Promise<void> {
    const message = JSON.stringify(event);
    await this.redis.multi().publish(this.keys.events(event.evaluationId), message).publish(this.keys.ownerEvents(owner), message).exec();
  }

  /**
   * Follows one evaluation's events. Subscribe before reading storage, then drop anything with a
   * seq already replayed. Dispose to stop following.
   */
  async follow(evaluationId: string, listener: Listener): Promise<AsyncDisposable> {
    return this.subscribe(this.keys.events(evaluationId), listener);
  }

  /** Follows every status change of one owner's evaluations. Dispose to stop following. */
  async followOwner(owner: string, listener: Listener): Promise<AsyncDisposable> {
    return this.subscribe(this.keys.ownerEvents(owner), listener);
  }

  private async subscribe(channel: string, listener: Listener): Promise<AsyncDisposable> {
    const sub = this.connection();
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    if (set.size === 1) await sub.subscribe(channel);
    return {
      [Symbol.asyncDispose]: async () => {
        const current = this.listeners.get(channel);
        if (!current?.delete(listener) || current.size > 0) return;
        this.listeners.delete(channel);
        await sub.unsubscribe(channel).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const sub = this.redis.duplicate();
    sub.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      let event: EvaluationEvent;
      try {
        event = JSON.parse(message) as EvaluationEvent;
      } catch {
        return; // storage stays the source of truth for replay
      }
      for (const l of set) l(event);
    });
    this.subscriber = sub;
    return sub;
  }
}
