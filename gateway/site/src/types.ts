// The API's shapes, taken from the code that produces and validates them. The server-side imports
// are type-only (erased when bundled); the domain module is pure, so its constants bundle as is.
import type { presentEvaluation } from '../../src/presenter';
import type { SubmitRequest } from '../../src/submit-request';
import type { LanguageInfo } from '@crucible/executor-agent/protocol';

export { STATUSES, isTerminal } from '@crucible/storage/domain';
export type { Limits, Outcome, Priority, Status } from '@crucible/storage/domain';

/** The API's `Evaluation`, exactly as the gateway presents it. */
export type Evaluation = ReturnType<typeof presentEvaluation>;

/** A `POST /v1/evaluations` body. */
export type EvaluationRequest = SubmitRequest;

/** One file of a submission, as the editor holds it. */
export type SourceFile = NonNullable<SubmitRequest['files']>[number];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One entry of `GET /v1/languages`. */
export type Language = LanguageInfo;

export interface QueueState {
  lanes: { name: string; depth: number; running: number }[];
  agents: { id: string; node: string; lane: string; running: number; lastSeenAt: string }[];
  driver: string;
}

