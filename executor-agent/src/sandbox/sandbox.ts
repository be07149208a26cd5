import type { ContainerRuntime, Limits, RunResult, RuntimeKind, SourceFile } from '@crucible/storage/domain';

export type OutputStream = 'stdout' | 'stderr';

/** What a language offers, as `/v1/languages` reports it. */
export interface LanguageInfo {
  id: string;
  name: string;
  version: string;
  runtime: RuntimeKind;
  available: boolean;
  /** Why the language cannot run here, when `available` is false. */
  reason?: string;
}

export interface RunRequest {
  evaluationId: string;
  language: string;
  files: SourceFile[];
  stdin: string;
  args: string[];
  limits: Limits;
  /** Container sandbox: the engine runtime the request asked for (checked against what the agent allows). */
  containerRuntime?: ContainerRuntime | undefined;
  /** Aborting kills the program at once; the result then has outcome `killed`. */
  signal?: AbortSignal;
  /**
   * Called with output as it is produced: the exact bytes, already capped at `limits.outputBytes`
   * per stream, never ending inside a UTF-8 character that continues in the next chunk.
   */
  onOutput?: (stream: OutputStream, chunk: Uint8Array) => void;
  /** Called once the program has actually started (after any provisioning). */
  onStart?: () => void;
}

/**
 * Runs untrusted code once, in isolation, within limits. Implementations: container (dockerode)
 * and wasm (QuickJS, @wasmer/sdk). Both pass `test/sandbox-conformance.ts`.
 *
 * `run` resolves for everything the program does (including exceeding a limit); it rejects only
 * for platform faults (engine unreachable, image missing), which the scheduler may retry.
 */
export interface Sandbox extends AsyncDisposable {
  readonly kind: RuntimeKind;
  /** Languages this sandbox knows, with availability checked at `init`. */
  languages(): LanguageInfo[];
  init(): Promise<void>;
  /** Facts for `/readyz` (engine mode, runtime, why something is unavailable). */
  details?(): Record<string, unknown>;
  run(request: RunRequest): Promise<RunResult>;
}

/** A program input problem the user can fix (e.g. a malformed Wasm module): reported as outcome `error`. */
export class InvalidProgramError extends Error {
  override readonly name = 'InvalidProgramError';
}

/** Thrown for faults of the platform, not of the program: the task may be retried elsewhere. */
export class PlatformError extends Error {
  override readonly name = 'PlatformError';
}
