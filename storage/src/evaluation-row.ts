import type {
  CompileResult,
  ContainerRuntime,
  EvaluationEvent,
  EventType,
  Evaluation,
  Limits,
  Outcome,
  OutputEventData,
  Priority,
  RuntimeKind,
  SourceFile,
  Status,
} from './domain/types.js';
import { decodeOutput } from './domain/output.js';

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
  /** bytea (0006): node-postgres returns a Buffer, PGlite a Uint8Array. */
  stdout: Uint8Array | string;
  stderr: Uint8Array | string;
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

/** Output as bytes: a bytea column's value, or (a row read before 0006) its text's UTF-8. */
function bytesOf(value: Uint8Array | string | null | undefined): Buffer {
  if (value == null) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** A stored output's text and exact bytes; text is always derived from the bytes, never stored. */
function output(bytes: Buffer): { text: string; base64: string } {
  return { text: decodeOutput(bytes), base64: bytes.toString('base64') };
}

/**
 * Text a `text` column can hold. PostgreSQL text cannot hold U+0000, and an error message may
 * quote what a program wrote (a file name, an exit message): NUL is replaced by U+FFFD, the same
 * mark invalid UTF-8 gets. (Lone surrogates need nothing: both drivers encode them as U+FFFD.)
 */
export function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

/**
 * The compile step as jsonb holds it: bytes as base64 only, since jsonb cannot hold \u0000 and
 * the text is derived on reading anyway.
 */
function storableCompile(compile: CompileResult): Record<string, unknown> {
  return {
    stdoutBase64: compile.stdoutBase64 ?? Buffer.from(compile.stdout, 'utf8').toString('base64'),
    stderrBase64: compile.stderrBase64 ?? Buffer.from(compile.stderr, 'utf8').toString('base64'),
    exitCode: compile.exitCode,
    durationMs: compile.durationMs,
  };
}

/** Reads the compile jsonb: the base64 form (0006 on), or the text form written before it. */
function toCompile(value: unknown): CompileResult {
  const c = json<Partial<CompileResult>>(value);
  const out = Buffer.from(c.stdoutBase64 ?? Buffer.from(c.stdout ?? '', 'utf8').toString('base64'), 'base64');
  const err = Buffer.from(c.stderrBase64 ?? Buffer.from(c.stderr ?? '', 'utf8').toString('base64'), 'base64');
  return {
    stdout: decodeOutput(out),
    stderr: decodeOutput(err),
    stdoutBase64: out.toString('base64'),
    stderrBase64: err.toString('base64'),
    exitCode: c.exitCode ?? null,
    durationMs: c.durationMs ?? 0,
  };
}

/** Maps a row to the domain {@link Evaluation}. */
export function toEvaluation(row: EvaluationRow): Evaluation {
  const stdout = output(bytesOf(row.stdout));
  const stderr = output(bytesOf(row.stderr));
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
    stdout: stdout.text,
    stderr: stderr.text,
    stdoutBase64: stdout.base64,
    stderrBase64: stderr.base64,
    stdoutTruncated: row.stdout_truncated,
    compile: row.compile == null ? null : toCompile(row.compile),
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

/**
 * An event's data as jsonb holds it. An output chunk is kept as `{base64}`: its exact bytes, in a
 * form jsonb accepts whatever they are. Given `{base64}` or (text) `{data}`.
 */
export function storableEventData(type: EventType, data: Record<string, unknown>): Record<string, unknown> {
  if (type === 'status') return data;
  const base64 = typeof data.base64 === 'string' ? data.base64 : Buffer.from(String(data.data ?? ''), 'utf8').toString('base64');
  return { base64 };
}

/** Maps a row to the domain {@link EvaluationEvent}; an output chunk becomes {@link OutputEventData}. */
export function toEvent(row: EventRow): EvaluationEvent {
  let data = json<Record<string, unknown>>(row.data);
  if (row.type !== 'status') {
    // Events written before 0006 hold the chunk as text.
    const bytes = typeof data.base64 === 'string' ? Buffer.from(data.base64, 'base64') : bytesOf(String(data.data ?? ''));
    const chunk = output(bytes);
    data = { data: chunk.text, dataBase64: chunk.base64 } satisfies OutputEventData;
  }
  return {
    evaluationId: row.evaluation_id,
    seq: row.seq,
    type: row.type,
    data,
    at: iso(row.at),
  };
}

/** Result fields a transition may set alongside the status. Times are ISO strings. */
export interface TransitionPatch {
  outcome?: Outcome | null;
  exitCode?: number | null;
  signal?: string | null;
  /** The exact output bytes; a string stands for its UTF-8 encoding. */
  stdout?: Uint8Array | string;
  stderr?: Uint8Array | string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  durationMs?: number | null;
  pidsLimitHit?: boolean;
  /** Stored as jsonb, its output as base64 (see storableCompile). */
  compile?: CompileResult | null;
  /** Any text (it may quote program data): stored through {@link storableText}. */
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
  // Each column in the form its type can hold, whatever the program wrote.
  for (const column of ['stdout', 'stderr'] as const) {
    if (patch[column] !== undefined) out[column] = bytesOf(patch[column]);
  }
  if (patch.compile) out.compile = JSON.stringify(storableCompile(patch.compile));
  if (typeof patch.error === 'string') out.error = storableText(patch.error);
  return out;
}
