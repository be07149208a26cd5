import type { CreateEvaluationInput } from '@crucible/storage';
import type { Evaluation } from '@crucible/storage/domain';
import { ApiError } from './errors.js';

/**
 * An Idempotency-Key names one request. Replaying it with the same request returns the evaluation
 * it created; replaying it with a *different* request is a client bug (a reused or colliding key),
 * and silently answering with the first evaluation would hand back results for code the client
 * did not send this time. So that is a 422, as the IETF Idempotency-Key draft recommends.
 *
 * "The same request" is compared on what was stored, after validation and defaults (so `code`
 * versus a one-file `files`, omitted versus default limits, or metadata key order do not matter).
 */
export function assertSameRequest(input: CreateEvaluationInput, existing: Evaluation, key: string): void {
  if (canonical(requestOf(input)) === canonical(requestOf(existing))) return;
  throw new ApiError(
    422,
    'idempotency_key_reused',
    `Idempotency-Key "${key}" was already used for a different request (evaluation ${existing.id}); use a new key for a new request`,
    { field: 'Idempotency-Key', evaluationId: existing.id },
  );
}

function requestOf(e: CreateEvaluationInput | Evaluation) {
  return {
    language: e.language,
    priority: e.priority,
    files: e.files.map((f) => ({ name: f.name, content: f.content, encoding: f.encoding ?? 'utf8' })),
    stdin: e.stdin,
    args: e.args,
    limits: e.limits,
    metadata: e.metadata ?? {},
    containerRuntime: e.containerRuntime ?? null,
  };
}

/** JSON with object keys sorted at every level: PostgreSQL's jsonb does not keep key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
