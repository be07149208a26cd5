import type {
  CompileResult,
  ContainerRuntime,
  EvaluationEvent,
  EventType,
  Evaluation,
  Limits,
  Outcome,
  Priority,
  RuntimeKind,
  SourceFile,
  Status,
} from './domain/types.js';

/** An `evaluations` row as the drivers return it (snake_case; times as Date or string). */
export interface EvaluationRow {
  id: string;
  owner: string;
  status: Status;
  outcome: Outcome | null;
  language: string;
  runtime: RuntimeKind;
  priority: Priority;
  files: unknown;
  stdin: string;
  args: unknown;
  limits: unknown;
  metadata: unknown;
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  duration_ms: number | null;
  pids_limit_hit?: boolean;
  compile?: unknown;
  container_runtime?: ContainerRuntime | null;
  error: string | null;
  attempts: number;
  request_id: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  updated_at: Date | string;
}

/** An `evaluation_events` row as the drivers return it. */
export interface EventRow {
  evaluation_id: string;
  seq: number;
  type: EventType;
  data: unknown;
  at: Date | string;
}

/**
 * jsonb arrives parsed from node-postgres and from PGlite today, but a custom type parser or a
 * driver change would hand back the text; accepting both keeps the mapping driver-agnostic.
 */
function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function isoOrNull(value: Date | string | null): string | null {
  return value === null ? null : iso(value);
}

/** Maps a row to the domain {@link Evaluation}. */
export function toEvaluation(row: EvaluationRow): Evaluation {
  return {
    id: row.id,
    owner: row.owner,
    status: row.status,
    outcome: row.outcome,
    language: row.language,
    runtime: row.runtime,
    priority: row.priority,
    files: json<SourceFile[]>(row.files),
    stdin: row.stdin,
    args: json<string[]>(row.args),
    exitCode: row.exit_code,
    signal: row.signal,
    stdout: row.stdout,
    stderr: row.stderr,
    stdoutTruncated: row.stdout_truncated,
    compile: row.compile == null ? null : json<CompileResult>(row.compile),
    containerRuntime: row.container_runtime ?? null,
    stderrTruncated: row.stderr_truncated,
    durationMs: row.duration_ms,
    pidsLimitHit: row.pids_limit_hit === true,
    limits: json<Limits>(row.limits),
    metadata: json<Record<string, unknown>>(row.metadata),
    error: row.error,
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
    updatedAt: iso(row.updated_at),
    attempts: row.attempts,
    requestId: row.request_id,
  };
}

/** Maps a row to the domain {@link EvaluationEvent}. */
export function toEvent(row: EventRow): EvaluationEvent {
  return {
    evaluationId: row.evaluation_id,
    seq: row.seq,
    type: row.type,
    data: json<Record<string, unknown>>(row.data),
    at: iso(row.at),
  };
}

/** Result fields a transition may set alongside the status. Times are ISO strings. */
export interface TransitionPatch {
  outcome?: Outcome | null;
  exitCode?: number | null;
  signal?: string | null;
  stdout?: string;
  stderr?: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  durationMs?: number | null;
  pidsLimitHit?: boolean;
  /** Stored as JSON text (jsonb). */
  compile?: string | null;
  error?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
}

const PATCH_COLUMNS: Readonly<Record<keyof TransitionPatch, keyof EvaluationRow>> = {
  outcome: 'outcome',
  exitCode: 'exit_code',
  signal: 'signal',
  stdout: 'stdout',
  stderr: 'stderr',
  stdoutTruncated: 'stdout_truncated',
  stderrTruncated: 'stderr_truncated',
  durationMs: 'duration_ms',
  pidsLimitHit: 'pids_limit_hit',
  compile: 'compile',
  error: 'error',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

/**
 * Maps a patch to columns. Driven by a fixed table, so a caller passing a whole object (say, an
 * Evaluation) cannot write `status`, `owner` or anything else past the state machine.
 */
export function toColumns(patch: TransitionPatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof TransitionPatch, string][]) {
    if (patch[key] !== undefined) out[column] = patch[key];
  }
  return out;
}
