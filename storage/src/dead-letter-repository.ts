import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { DEAD_LETTER_RETRY } from './domain/status-machine.js';
import type { Evaluation, Priority, RuntimeKind } from './domain/types.js';
import { decodeCursor, encodeCursor, isUuid } from './cursor.js';
import { insertEvent, NOW, transitionIn, type TransitionResult } from './evaluation-repository.js';
import { storableText, toEvaluation, type EvaluationRow } from './evaluation-row.js';
import { StorageInputError } from './errors.js';

/** An evaluation the platform gave up on after its retries (`GET /v1/dlq`). */
export interface DeadLetter {
  id: string;
  evaluationId: string;
  owner: string;
  language: string;
  runtime: RuntimeKind;
  priority: Priority;
  reason: string;
  attempts: number;
  createdAt: string;
}

export interface DeadLetterPage {
  items: DeadLetter[];
  nextCursor: string | null;
}

interface DeadLetterRow {
  id: string;
  evaluation_id: string;
  owner: string;
  language: string;
  runtime: RuntimeKind;
  priority: Priority;
  reason: string;
  attempts: number;
  created_at: Date | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

/**
 * The dead-letter queue, in PostgreSQL (Redis may lose everything). Failing an evaluation for good
 * and filing its letter happen in one transaction, so every `failed` evaluation has its letter.
 */
export class DeadLetterRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * Moves the evaluation to `failed` with `reason` and files a dead letter, atomically. Returns
   * null (and files nothing) when the evaluation cannot fail from its status, e.g. already terminal.
   */
  async fail(evaluationId: string, reason: string): Promise<TransitionResult | null> {
    return this.knex.transaction(async (trx) => {
      const t = await transitionIn(trx, evaluationId, 'failed', { error: reason });
      if (!t) return null;
      await trx('dead_letters').insert({ id: randomUUID(), evaluation_id: evaluationId, reason: storableText(reason), attempts: t.evaluation.attempts });
      return t;
    });
  }

  /** Open letters (not yet retried), newest first, keyset-paginated like the evaluation list. */
  async list(query: { limit?: number; cursor?: string } = {}): Promise<DeadLetterPage> {
    const limit = Math.min(query.limit ?? 50, 200);
    const q = this.knex('dead_letters as d')
      .join('evaluations as e', 'e.id', 'd.evaluation_id')
      .whereNull('d.retried_at')
      .select('d.id', 'd.evaluation_id', 'd.reason', 'd.attempts', 'd.created_at', 'e.owner', 'e.language', 'e.runtime', 'e.priority')
      .orderBy([
        { column: 'd.created_at', order: 'desc' },
        { column: 'd.id', order: 'desc' },
      ])
      .limit(limit + 1);
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      q.whereRaw('(d.created_at, d.id) < (?::timestamptz, ?::uuid)', [after.createdAt, after.id]);
    }
    const rows = (await q) as DeadLetterRow[];
    const items = rows.slice(0, limit).map(toDeadLetter);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
  }

  /** How many letters are open: the dead-letter queue's size. */
  async count(): Promise<number> {
    const row = (await this.knex('dead_letters').whereNull('retried_at').count({ n: '*' }).first()) as { n: string | number } | undefined;
    return Number(row?.n ?? 0);
  }

  /**
   * Retries an open letter: the evaluation goes back to `queued` with its result fields and its
   * attempt count cleared (so it gets the full retry budget again), the letter is closed, and the
   * `queued` status event is recorded. Throws `not_found` for an unknown or already retried letter.
   */
  async retry(id: string): Promise<TransitionResult> {
    const notFound = () => new StorageInputError(`dead letter ${id} not found`, 'not_found');
    if (!isUuid(id)) throw notFound();
    return this.knex.transaction(async (trx) => {
      const letter = (await trx('dead_letters').where({ id }).whereNull('retried_at').forUpdate().first()) as { evaluation_id: string } | undefined;
      if (!letter) throw notFound();
      const [row] = (await trx('evaluations')
        .where({ id: letter.evaluation_id, status: DEAD_LETTER_RETRY.from })
        .update({
          status: DEAD_LETTER_RETRY.to,
          outcome: null,
          exit_code: null,
          signal: null,
          error: null,
          duration_ms: null,
          started_at: null,
          finished_at: null,
          attempts: 0,
          updated_at: trx.raw(NOW),
        })
        .returning('*')) as EvaluationRow[];
      if (!row) throw notFound();
      await trx('dead_letters').where({ id }).update({ retried_at: trx.raw(NOW) });
      const event = await insertEvent(trx, row.id, 'status', { status: DEAD_LETTER_RETRY.to, retry: 'dead_letter' });
      return { evaluation: toEvaluation(row) as Evaluation, event };
    });
  }
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    evaluationId: row.evaluation_id,
    owner: row.owner,
    language: row.language,
    runtime: row.runtime,
    priority: row.priority,
    reason: row.reason,
    attempts: row.attempts,
    createdAt: iso(row.created_at),
  };
}
