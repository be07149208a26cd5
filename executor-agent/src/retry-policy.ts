/**
 * When a task that hit a platform fault runs again. Only platform faults are retried (engine
 * unreachable, image missing, agent lost); a program's own failure is a result, never retried.
 *
 * Exponential backoff with "equal jitter": attempt `n` (1-based, the one that just failed) waits
 * between half and all of `baseMs * 2^(n-1)`, capped at {@link MAX_BACKOFF_MS}. The jitter keeps
 * tasks that failed together (say, when the Docker engine restarted) from all retrying at once.
 */
export const MAX_BACKOFF_MS = 60_000;

export function retryDelayMs(failedAttempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, Math.max(0, baseMs) * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random())));
}

/** Whether another attempt is allowed after attempt `attempt` of at most `maxAttempts`. */
export function mayRetry(attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts;
}
