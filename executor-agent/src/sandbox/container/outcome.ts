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
  /** The container's memory cgroup saw usage reach its limit (memory-watch.ts). */
  memoryLimitReached?: boolean;
}

const SIGKILL_STATUS = 128 + constants.signals.SIGKILL;

/**
 * Turns how a container ended into the result's outcome, exit code and signal.
 *
 * Every verdict but `success`/`error` rests on a fact the program cannot produce (issue 12): the
 * sandbox's own kill (`killedFor`), the engine's OOM flag or the memory cgroup's counters. The exit status is the program's to
 * choose: `exit(137)` and death by SIGKILL give the same 137, so a status above 128 that the
 * platform did not cause is reported as it is, outcome `error`, `exitCode` the status and
 * `signal` null (README, "Results"). `signal` names only a signal the platform itself sent or
 * saw sent (its SIGKILL at a deadline, over the output cap, on cancel; the OOM killer's).
 */
export function decideOutcome(f: ExitFacts): Pick<RunResult, 'outcome' | 'exitCode' | 'signal'> {
  // Output over the cap is a fact whatever the exit; a deadline or abort that raced a program's
  // own exit (status not SIGKILL's) leaves the program's own result standing.
  if (f.killedFor === 'output_limit' || (f.killedFor && f.exitCode === SIGKILL_STATUS)) {
    return { outcome: f.killedFor, exitCode: null, signal: 'SIGKILL' };
  }
  if (f.exitCode === 0) return { outcome: 'success', exitCode: 0, signal: null };
  if (f.oomKilled) return { outcome: 'memory_limit', exitCode: null, signal: 'SIGKILL' };
  // A SIGKILL status we did not send, at a limit the kernel says was reached: the OOM killer of
  // a sandbox kernel (gVisor) the engine did not flag. Never the status alone.
  if (f.memoryLimitReached && f.exitCode === SIGKILL_STATUS) return { outcome: 'memory_limit', exitCode: null, signal: 'SIGKILL' };
  return { outcome: 'error', exitCode: f.exitCode, signal: null };
}
