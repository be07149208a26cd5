// The API's shapes as the site uses them (shared/API.md). Kept by hand: the site must not import
// server code, and these are a handful of plain records.

export const STATUSES = ['queued', 'provisioning', 'running', 'completed', 'failed', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
export type Outcome = 'success' | 'error' | 'timeout' | 'memory_limit' | 'output_limit' | 'killed';
export type Priority = 'high' | 'normal' | 'low';

export interface Limits {
  timeoutMs: number;
  memoryMb: number;
  cpus: number;
  pids: number;
  outputBytes: number;
}

export interface Evaluation {
  id: string;
  status: Status;
  outcome: Outcome | null;
  language: string;
  runtime: 'container' | 'wasm';
  priority: Priority;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
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
}

export interface SourceFile {
  name: string;
  content: string;
}

export interface EvaluationRequest {
  language: string;
  code?: string;
  files?: SourceFile[];
  stdin?: string;
  args?: string[];
  limits?: Partial<Limits>;
  priority?: Priority;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Language {
  id: string;
  name: string;
  version: string;
  runtime: 'container' | 'wasm';
  available: boolean;
  reason?: string;
}

export interface QueueState {
  lanes: { name: string; depth: number; running: number }[];
  agents: { id: string; node: string; lane: string; running: number; lastSeenAt: string }[];
  driver: string;
}

export const isTerminal = (status: Status) => status === 'completed' || status === 'failed' || status === 'cancelled';
