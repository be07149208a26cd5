import type { Priority } from '@crucible/storage/domain';

/**
 * Every Redis key and channel Crucible uses, in one place (scheduler/README.md has the table).
 * `prefix` lets tests and several platforms share one Redis without touching each other.
 */
export function redisKeys(prefix: string) {
  return Object.freeze({
    /** bee-queue prefix; each lane is one bee-queue queue named `lane:<priority>`. */
    queuePrefix: prefix,
    laneQueue: (priority: Priority) => `lane:${priority}`,
    /** One of bee-queue's keys of a lane (`waiting`, `active`, `jobs`, `delayed`, `stalling`, ...). */
    lane: (priority: Priority, part: LanePart) => `${prefix}:lane:${priority}:${part}`,
    /** Counts the deliveries of one task to agents (its attempts), so lost tasks cannot loop forever. */
    attempts: (evaluationId: string) => `${prefix}:attempts:${evaluationId}`,
    /** Pub/sub channel on which the producer wakes idle agents after enqueueing. */
    wake: `${prefix}:wake`,
    /** Stream of AgentReports, consumed by the scheduler's result collector (consumer group). */
    reports: `${prefix}:reports`,
    reportsGroup: 'scheduler',
    /** Pub/sub channel of persisted events of one evaluation (status, stdout, stderr). */
    events: (evaluationId: string) => `${prefix}:events:${evaluationId}`,
    /** Pub/sub channel of one owner's status changes (every evaluation of theirs), for live lists. */
    ownerEvents: (owner: string) => `${prefix}:owner-events:${owner}`,
    /** Pub/sub channel on which evaluation ids to cancel are announced to agents. */
    cancelChannel: `${prefix}:cancel`,
    /** Marks a cancelled evaluation so an agent that picks it up late skips it. */
    cancelled: (evaluationId: string) => `${prefix}:cancelled:${evaluationId}`,
    /** Hash: agent id → AgentHeartbeat JSON. */
    agents: `${prefix}:agents`,
  });
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/** The bee-queue keys of a lane that Crucible touches directly (scheduler/README.md, "Redis keys"). */
export type LanePart = 'waiting' | 'active' | 'jobs' | 'delayed' | 'stalling' | 'earlierDelayed';

/** How long a task's attempt counter is kept: longer than any task can wait and retry. */
export const ATTEMPTS_TTL_SECONDS = 24 * 60 * 60;

/** How long a cancellation marker is kept: longer than any task can wait in a queue. */
export const CANCEL_MARK_TTL_SECONDS = 24 * 60 * 60;

/** An agent whose heartbeat is older than this is considered gone. */
export const AGENT_STALE_MS = 15_000;
export const HEARTBEAT_INTERVAL_MS = 2_000;
