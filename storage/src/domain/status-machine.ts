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
