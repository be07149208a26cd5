import type { Evaluation } from '@crucible/storage/domain';

/** The API's `Evaluation`: what a client sees; the code, stdin and owner are not echoed back. */
export function presentEvaluation(e: Evaluation) {
  return {
    id: e.id,
    status: e.status,
    outcome: e.outcome,
    language: e.language,
    runtime: e.runtime,
    priority: e.priority,
    exitCode: e.exitCode,
    signal: e.signal,
    stdout: e.stdout,
    stderr: e.stderr,
    stdoutTruncated: e.stdoutTruncated,
    stderrTruncated: e.stderrTruncated,
    durationMs: e.durationMs,
    /** The platform's evidence that the pids limit refused a fork (container runs; best effort, never a verdict by itself). */
    pidsLimitHit: e.pidsLimitHit === true,
    /** The engine runtime the request asked for; null: the default. */
    containerRuntime: e.containerRuntime ?? null,
    /** Compiled languages only: the compile step's output, exit code and duration. */
    compile: e.compile ?? null,
    limits: e.limits,
    metadata: e.metadata,
    error: e.error,
    createdAt: e.createdAt,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    attempts: e.attempts,
  };
}
