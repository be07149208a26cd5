import type { Evaluation } from './types';
import { visibleText } from './visible-output';

// Turning raw results into sentences a researcher can act on.

const SIGNALS: Record<string, string> = {
  SIGKILL: 'killed (SIGKILL): the usual cause is running out of memory',
  SIGSEGV: 'crashed with a segmentation fault (SIGSEGV)',
  SIGABRT: 'aborted itself (SIGABRT), e.g. a failed assertion in native code',
  SIGTERM: 'was asked to stop (SIGTERM)',
  SIGFPE: 'crashed on an arithmetic error (SIGFPE)',
  SIGBUS: 'crashed on a bad memory access (SIGBUS)',
  SIGPIPE: 'wrote to a closed pipe (SIGPIPE)',
};

const SIGNAL_NUMBERS: Record<number, string> = { 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** One sentence on how the program ended, from the outcome, exit code and signal. */
export function explainExit(e: Evaluation): string {
  const l = e.limits;
  switch (e.outcome) {
    case 'success':
      return 'Exited normally (exit code 0).';
    case 'timeout':
      return `Killed at the time limit of ${formatMs(l.timeoutMs)}.`;
    case 'memory_limit':
      return `Killed for exceeding the memory limit of ${l.memoryMb} MiB.`;
    case 'output_limit':
      return `Killed for writing more than the output limit of ${formatBytes(l.outputBytes)} per stream.`;
    case 'killed':
      return e.status === 'cancelled' ? 'Killed because it was cancelled.' : `Killed (${e.signal ?? 'SIGKILL'}): the usual cause is running out of memory.`;
    case 'error':
      return explainError(e);
    default:
      if (e.status === 'cancelled') return 'Cancelled before it finished.';
      if (e.status === 'failed') return e.error ? `The platform could not run it: ${visibleText(e.error)}` : 'The platform could not run it.';
      return 'Not finished yet.';
  }
}

function explainError(e: Evaluation): string {
  if (e.signal) return `The program ${SIGNALS[e.signal] ?? `was stopped by ${e.signal}`}.`;
  const code = e.exitCode;
  if (code === null) return e.error ? `Refused: ${visibleText(e.error)}` : 'The program did not run (see stderr).';
  if (code > 128 && SIGNAL_NUMBERS[code - 128]) {
    const signal = SIGNAL_NUMBERS[code - 128]!;
    return `Exit code ${code} = 128 + ${code - 128}: the program ${SIGNALS[signal] ?? `was stopped by ${signal}`}.`;
  }
  if (code === 1) return 'Exit code 1: the program failed, e.g. an uncaught exception (see stderr).';
  if (code === 2) return 'Exit code 2: usually a usage or syntax error (see stderr).';
  if (code === 126) return 'Exit code 126: a command was found but could not be executed.';
  if (code === 127) return 'Exit code 127: a command was not found.';
  return `Exit code ${code}: the program reported failure.`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "12 s ago", coarse on purpose: it is re-rendered every poll. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function clockTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString() : '—';
}

export const shortId = (id: string) => id.slice(0, 8);
