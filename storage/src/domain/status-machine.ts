import type { Status } from './types.js';

/**
 * The one place that says which status may follow which (ARCHITECTURE.md, "Status model").
 * `running → queued` and `provisioning → queued` are how a platform fault hands a task back for a retry.
 */
const NEXT: Readonly<Record<Status, readonly Status[]>> = Object.freeze({
  queued: ['provisioning', 'running', 'completed', 'failed', 'cancelled'],
  provisioning: ['running', 'completed', 'failed', 'cancelled', 'queued'],
  running: ['completed', 'failed', 'cancelled', 'queued'],
  completed: [],
  failed: [],
  cancelled: [],
});

export const TERMINAL_STATUSES: readonly Status[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: Status, to: Status): boolean {
  return NEXT[from].includes(to);
}

/** Statuses from which `to` may be reached: used to make a transition one conditional UPDATE. */
export function predecessors(to: Status): Status[] {
  return (Object.keys(NEXT) as Status[]).filter((from) => NEXT[from].includes(to));
}

/**
 * The one way out of a terminal status: an administrator retrying a dead letter moves a `failed`
 * evaluation back to `queued` (never `completed` or `cancelled`: those are the program's or the
 * user's final word). Only the dead-letter repository performs it, one letter at a time.
 */
export const DEAD_LETTER_RETRY: Readonly<{ from: Status; to: Status }> = Object.freeze({ from: 'failed', to: 'queued' });
