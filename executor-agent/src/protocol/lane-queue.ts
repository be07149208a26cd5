import type { Priority } from '@crucible/storage/domain';
import type { RedisKeys } from './keys.js';

/**
 * The bee-queue settings of a lane, shared by its producer (the scheduler's TaskQueue) and its
 * consumers (agents' LaneConsumer), so both sides open the same queue the same way. Neither uses
 * bee-queue's worker loop (agents take tasks with their own Lua script) nor its pub/sub events.
 * Each side adds only what is its own (agents: the stall interval; the producer: no job cache).
 */
export function laneQueueSettings(keys: RedisKeys, redisUrl: string, lane: Priority) {
  return {
    name: keys.laneQueue(lane),
    settings: {
      prefix: keys.queuePrefix,
      // bee-queue's type for `redis` wants a client options object; a URL works at runtime.
      redis: { url: redisUrl } as never,
      isWorker: false,
      getEvents: false,
      sendEvents: false,
      activateDelayedJobs: true,
    },
  } as const;
}
