import type { SourceFile } from '@crucible/storage/domain';
import type { OutputStream } from '../sandbox.js';

/**
 * Messages between the sandbox (parent thread) and an engine worker. A worker runs one job at a
 * time; the parent never sends a job before the previous `done`.
 */

/** Data each engine worker receives at creation. */
export interface EngineWorkerData {
  /**
   * One Int32 the parent sets to 1 to ask for the running job to stop. QuickJS evaluates
   * synchronously, so a message could not reach it; its interrupt handler polls this instead.
   */
  stopFlag: SharedArrayBuffer;
}

export interface JobLimits {
  timeoutMs: number;
  memoryMb: number;
  outputBytes: number;
}

export interface RunJob {
  type: 'run';
  file: SourceFile;
  stdin: string;
  args: string[];
  limits: JobLimits;
}

/** Asks the running job to stop (also signalled through `stopFlag`). */
export interface StopJob {
  type: 'stop';
}

export type ToWorker = RunJob | StopJob;

/**
 * Why a program did not end on its own: an engine limit, a stop the parent asked for, a program
 * refused before it ran, a trap (WASI), or the runtime failing under it (WASI).
 */
export type EngineEnded = 'timeout' | 'memory_limit' | 'output_limit' | 'stopped' | 'invalid' | 'trapped' | 'crashed';

export interface ReadyMessage {
  type: 'ready';
  version: string;
}

export interface StartMessage {
  type: 'start';
}

export interface OutputMessage {
  type: 'output';
  stream: OutputStream;
  data: Uint8Array;
}

export interface DoneMessage {
  type: 'done';
  exitCode: number | null;
  ended?: EngineEnded;
  /** The worker holds memory it cannot give back (engine heaps only grow): replace it. */
  retire?: boolean;
}

export type FromWorker = ReadyMessage | StartMessage | OutputMessage | DoneMessage;
