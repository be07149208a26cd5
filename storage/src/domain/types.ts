/** The domain model shared by every package. Pure types: importing this module loads no I/O. */

export const STATUSES = ['queued', 'provisioning', 'running', 'completed', 'failed', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];

export const OUTCOMES = ['success', 'error', 'timeout', 'memory_limit', 'output_limit', 'killed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const RUNTIME_KINDS = ['container', 'wasm'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** The OCI runtimes a container may run under: runc (kernel namespaces + seccomp) or runsc (gVisor). */
export const CONTAINER_RUNTIMES = ['runc', 'runsc'] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];
export type RuntimeChoice = RuntimeKind | 'auto';

export interface Limits {
  timeoutMs: number;
  memoryMb: number;
  cpus: number;
  pids: number;
  outputBytes: number;
}

export interface SourceFile {
  name: string;
  content: string;
  encoding: 'utf8' | 'base64';
}

/** What the sandbox needs to run one evaluation; carried by the queue, never holding credentials. */
export interface Task {
  evaluationId: string;
  language: string;
  runtime: RuntimeKind;
  files: SourceFile[];
  stdin: string;
  args: string[];
  limits: Limits;
  /** The engine runtime the request asked for; absent: the agent's (or language's) default. */
  containerRuntime?: ContainerRuntime;
  /** Propagated for tracing; never used for authorisation by the agent. */
  requestId?: string;
}

/** A compiled language's compile step, as the evaluation reports it. */
export interface CompileResult {
  /** The compiler's output as text (see {@link RunResult.stdout}). */
  stdout: string;
  stderr: string;
  /** The exact bytes, base64; absent only in results from before exact bytes were kept. */
  stdoutBase64?: string;
  stderrBase64?: string;
  exitCode: number | null;
  durationMs: number;
}

/** The outcome of running a task in a sandbox. */
export interface RunResult {
  /** Present for compiled languages: the compile step, run before the program. */
  compile?: CompileResult;
  outcome: Outcome;
  exitCode: number | null;
  signal: string | null;
  /** The output's text: its UTF-8 decoding ({@link decodeOutput}), NUL and controls kept. */
  stdout: string;
  stderr: string;
  /**
   * The exact bytes the program wrote (up to the cap), base64. Sandboxes always set them; a
   * report without them (an older agent) stands for the UTF-8 encoding of the text.
   */
  stdoutBase64?: string;
  stderrBase64?: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
  /**
   * Container runtime, best effort: the program tried to create more processes than its `pids`
   * limit allowed (a fork was refused). Feeds the `pids` kind of the limit-kill metric.
   */
  pidsLimitHit?: boolean;
}

export interface Evaluation {
  id: string;
  owner: string;
  status: Status;
  outcome: Outcome | null;
  language: string;
  runtime: RuntimeKind;
  priority: Priority;
  files: SourceFile[];
  stdin: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  /** The output's text, decoded from the stored bytes ({@link decodeOutput}). */
  stdout: string;
  stderr: string;
  /** The exact stored bytes, base64. Optional only so hand-built values stay valid; storage always sets them. */
  stdoutBase64?: string;
  stderrBase64?: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number | null;
  limits: Limits;
  metadata: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  /** The engine runtime the request asked for (container languages only); null for the default. */
  containerRuntime?: ContainerRuntime | null;
  /** A compiled language's compile step; null (or absent) otherwise. */
  compile?: CompileResult | null;
  /** Container runs: the kernel refused a fork at the `pids` limit (see RunResult.pidsLimitHit). */
  pidsLimitHit?: boolean;
  /** When the row last changed. Optional only so hand-built values elsewhere stay valid; storage always sets it. */
  updatedAt?: string;
  /** The submitting request's id, for tracing. Storage always sets it (null when there was none). */
  requestId?: string | null;
}

export type EventType = 'status' | 'stdout' | 'stderr';

/**
 * The data of a `stdout`/`stderr` event as storage returns it: the chunk's text and its exact
 * bytes (base64). The API shows `dataBase64` only when asked (`?output=base64`).
 */
export interface OutputEventData {
  data: string;
  dataBase64: string;
}

/** One replayable event of an evaluation, ordered by `seq` within it. */
export interface EvaluationEvent {
  evaluationId: string;
  seq: number;
  type: EventType;
  data: Record<string, unknown>;
  at: string;
}
