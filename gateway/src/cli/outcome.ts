import { constants } from 'node:os';
import type { Evaluation } from './client.js';

/** Exit codes for ends that are not the program's own exit (README "CLI" documents them). */
export const EXIT = Object.freeze({
  /** Like coreutils `timeout`. */
  timeout: 124,
  /** The platform could not run it (status `failed`): like `docker run`'s 125. */
  platform: 125,
  /** 128 + SIGINT: interrupted by Ctrl-C, or cancelled. */
  cancelled: 130,
  /** 128 + SIGKILL: memory limit, output limit, or killed. */
  killed: 137,
});

/**
 * How `run` ends for a finished evaluation: the exit code, and a one-line note for stderr when
 * the program did not simply exit by itself.
 */
export function exitFor(e: Evaluation): { code: number; note?: string } {
  if (e.status === 'cancelled') return { code: EXIT.cancelled, note: `evaluation ${e.id} was cancelled (cancelled)` };
  if (e.status === 'failed') return { code: EXIT.platform, note: `the platform could not run ${e.id}: ${e.error ?? 'unknown error'} (failed)` };
  switch (e.outcome) {
    case 'success':
      return { code: e.exitCode ?? 0 };
    case 'error': {
      if (e.exitCode !== null) return { code: e.exitCode };
      // Killed by a signal of its own making (e.g. SIGSEGV): the shell's 128 + n convention.
      const signo = e.signal ? constants.signals[e.signal as keyof typeof constants.signals] : undefined;
      return signo ? { code: 128 + signo, note: `the program was killed by ${e.signal} (error)` } : { code: 1 };
    }
    case 'timeout':
      return { code: EXIT.timeout, note: `timed out after ${e.limits.timeoutMs} ms (timeout)` };
    case 'memory_limit':
      return { code: EXIT.killed, note: `exceeded the memory limit of ${e.limits.memoryMb} MiB (memory_limit)` };
    case 'output_limit':
      return { code: EXIT.killed, note: `output exceeded ${e.limits.outputBytes} bytes; the program was stopped (output_limit)` };
    case 'killed':
      return { code: EXIT.killed, note: `the program was killed (killed)` };
    default:
      return { code: 1, note: `evaluation ${e.id} ended as ${e.status} with no outcome` };
  }
}
