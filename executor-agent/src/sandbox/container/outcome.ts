import { constants } from 'node:os';
import type { RunResult } from '@crucible/storage/domain';

/** Why the sandbox itself killed a container. */
export type KillReason = 'timeout' | 'output_limit' | 'killed';

export interface ExitFacts {
  /** The container's exit status (the init's, which is the program's, or 128 + its signal). */
  exitCode: number;
  /** Set when the sandbox sent SIGKILL, with the first reason it had. */
  killedFor?: KillReason;
  /** The engine's State.OOMKilled; only looked up for a non-zero exit the sandbox did not cause. */
  oomKilled?: boolean;
}

const SIGKILL_STATUS = 128 + constants.signals.SIGKILL;
const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/**
 * Turns how a container ended into the result's outcome, exit code and signal. A status of
 * 128 + n is read as "killed by signal n": the container's init reports its child that way.
 */
export function decideOutcome(f: ExitFacts): Pick<RunResult, 'outcome' | 'exitCode' | 'signal'> {
  // Output over the cap is a fact whatever the exit; a deadline or abort that raced a program's
  // own exit (status not SIGKILL's) leaves the program's own result standing.
  if (f.killedFor === 'output_limit' || (f.killedFor && f.exitCode === SIGKILL_STATUS)) {
    return { outcome: f.killedFor, exitCode: null, signal: 'SIGKILL' };
  }
  if (f.exitCode === 0) return { outcome: 'success', exitCode: 0, signal: null };
  if (f.oomKilled) return { outcome: 'memory_limit', exitCode: null, signal: 'SIGKILL' };
  const signal = f.exitCode > 128 ? SIGNAL_NAMES.get(f.exitCode - 128) : undefined;
  // SIGKILL that the sandbox did not send and that was not the OOM killer: e.g. the program
  // killed itself, or an operator killed the container.
  if (signal === 'SIGKILL') return { outcome: 'killed', exitCode: null, signal };
  if (signal) return { outcome: 'error', exitCode: null, signal };
  return { outcome: 'error', exitCode: f.exitCode, signal: null };
}
