import type { CompileResult, Evaluation, EvaluationEvent, OutputEventData } from '@crucible/storage/domain';
import { invalidRequest } from './errors.js';

/**
 * How output is presented (README "Output is data"). `text` (the default): `stdout`, `stderr` and
 * output events as text, the UTF-8 decoding of the bytes (invalid sequences as U+FFFD; NUL and
 * other controls kept, JSON escapes them as `\u0000`…). `base64`: the same, plus the exact bytes
 * in `stdoutBase64`/`stderrBase64` (also in `compile`) and `dataBase64` on output events.
 */
export type OutputEncoding = 'text' | 'base64';

export interface PresentOptions {
  output?: OutputEncoding;
}

/** The `output` query parameter of reads: absent or `text`, or `base64`; anything else is a 400. */
export function outputEncoding(value: unknown): OutputEncoding {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'base64') return 'base64';
  throw invalidRequest('output must be text or base64', { field: 'output' });
}

const base64Of = (base64: string | undefined, text: string) => base64 ?? Buffer.from(text, 'utf8').toString('base64');

function presentCompile(c: CompileResult, options: PresentOptions) {
  const shown = { stdout: c.stdout, stderr: c.stderr, exitCode: c.exitCode, durationMs: c.durationMs };
  if (options.output !== 'base64') return shown;
  return { ...shown, stdoutBase64: base64Of(c.stdoutBase64, c.stdout), stderrBase64: base64Of(c.stderrBase64, c.stderr) };
}

/** The API's `Evaluation`: what a client sees; the code, stdin and owner are not echoed back. */
export function presentEvaluation(e: Evaluation, options: PresentOptions = {}) {
  const exact: { stdoutBase64?: string; stderrBase64?: string } =
    options.output === 'base64' ? { stdoutBase64: base64Of(e.stdoutBase64, e.stdout), stderrBase64: base64Of(e.stderrBase64, e.stderr) } : {};
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
    ...exact,
    stdoutTruncated: e.stdoutTruncated,
    stderrTruncated: e.stderrTruncated,
    durationMs: e.durationMs,
    /** The platform's evidence that the pids limit refused a fork (container runs; best effort, never a verdict by itself). */
    pidsLimitHit: e.pidsLimitHit === true,
    /** The engine runtime the request asked for; null: the default. */
    containerRuntime: e.containerRuntime ?? null,
    /** Compiled languages only: the compile step's output, exit code and duration. */
    compile: e.compile ? presentCompile(e.compile, options) : null,
    limits: e.limits,
    metadata: e.metadata,
    error: e.error,
    createdAt: e.createdAt,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
    attempts: e.attempts,
  };
}

/**
 * An event's SSE data: `status` as stored; an output chunk as `{data}` (text), with `dataBase64`
 * (its exact bytes) when asked. Each is one JSON value on one `data:` line: JSON escapes CR, LF
 * and every other control character, so no bytes of a program can end or forge an SSE event.
 */
export function presentEventData(event: EvaluationEvent, options: PresentOptions = {}): Record<string, unknown> {
  if (event.type === 'status') return event.data;
  const chunk = event.data as Partial<OutputEventData>;
  const data = typeof chunk.data === 'string' ? chunk.data : '';
  return options.output === 'base64' ? { data, dataBase64: base64Of(chunk.dataBase64, data) } : { data };
}
