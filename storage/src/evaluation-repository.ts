import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isTerminal, predecessors } from './domain/status-machine.js';
import {
  STATUSES,
  type Evaluation,
  type EvaluationEvent,
  type EventType,
  type Limits,
  type Priority,
  type RuntimeKind,
  type SourceFile,
  type Status,
} from './domain/types.js';
import { decodeCursor, encodeCursor, isUuid } from './cursor.js';
import { StorageInputError } from './errors.js';
import {
  storableEventData,
  toColumns,
  toEvaluation,
  toEvent,
  type EvaluationRow,
  type EventRow,
  type TransitionPatch,
} from './evaluation-row.js';

/** What a new evaluation is made of; everything else starts empty. */
export type CreateEvaluationInput = Pick<
  Evaluation,
  'owner' | 'language' | 'runtime' | 'priority' | 'files' | 'stdin' | 'args' | 'limits' | 'metadata'
> & {
  /** The engine runtime the request asked for; omitted: the default. */
  containerRuntime?: Evaluation['containerRuntime'];
  /** Normally omitted (a fresh uuid is generated); given when the caller must know the id up front. */
  id?: string;
  requestId?: string;
};

/** Filters and paging for {@link EvaluationRepository.list}. */
export interface ListEvaluationsQuery {
  owner?: string;
  status?: Status;
  language?: string;
  /** Page size: default 50, values above 200 are lowered to 200. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of a newest-first listing; `nextCursor` is null on the last page. */
export interface EvaluationPage {
  items: Evaluation[];
  nextCursor: string | null;
}

/** A transition that happened: the updated evaluation and the status event recorded with it. */
export interface TransitionResult {
  evaluation: Evaluation;
  event: EvaluationEvent;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Statuses a reconciler must look at: accepted but not finished (the partial index in 0001 matches). */
const UNFINISHED: Status[] = STATUSES.filter((status) => !isTerminal(status));

/**
 * Timestamps come from the database clock (one clock for every gateway and scheduler), cut to
 * milliseconds so they survive the round trip through JS Dates and list cursors unchanged.
 */
export const NOW = "date_trunc('milliseconds', now())";

function pageSize(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new StorageInputError(`limit must be a positive integer, got ${limit}`, 'bad_limit');
  }
  return Math.min(limit, max);
}

/**
 * Appends an event with the next seq. The caller must hold the evaluation's row lock (FOR UPDATE
 * or an UPDATE of it) in `trx`: that lock is what makes MAX(seq) + 1 safe under concurrent appends.
 */
export async function insertEvent(
  trx: Knex.Transaction,
  evaluationId: string,
  type: EventType,
  data: Record<string, unknown>,
): Promise<EvaluationEvent> {
  const result = await trx.raw<{ rows: EventRow[] }>(
    `INSERT INTO evaluation_events (evaluation_id, seq, type, data, at)
     SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?::jsonb, ${NOW}
       FROM evaluation_events WHERE evaluation_id = ?
     RETURNING *`,
    [evaluationId, type, JSON.stringify(storableEventData(type, data)), evaluationId],
  );
  return toEvent(result.rows[0]!);
}

/**
 * The one conditional UPDATE behind every status change (see {@link EvaluationRepository.transition}),
 * inside the caller's transaction so other writes can commit or fail with it.
 */
export async function transitionIn(trx: Knex.Transaction, id: string, to: Status, patch: TransitionPatch = {}): Promise<TransitionResult | null> {
  const from = predecessors(to);
  if (!isUuid(id) || from.length === 0) return null;
  const set: Record<string, unknown> = { ...toColumns(patch), status: to, updated_at: trx.raw(NOW) };
  if (to === 'provisioning' || to === 'running') {
    // SET sees the old row, so this counts only the step out of the queue: provisioning → running
    // is the same attempt, while running → queued → provisioning (a retry) is a new one.
    set.attempts = trx.raw("CASE WHEN status = 'queued' THEN attempts + 1 ELSE attempts END");
    if (patch.startedAt === undefined) set.started_at = trx.raw(`COALESCE(started_at, ${NOW})`);
  }
  if (isTerminal(to) && patch.finishedAt === undefined) set.finished_at = trx.raw(NOW);
  const [row] = (await trx('evaluations')
    .where('id', id)
    .whereIn('status', from)
    .update(set)
    .returning('*')) as EvaluationRow[];
  if (!row) return null;
  const data: Record<string, unknown> = { status: to };
  if (row.outcome !== null) data.outcome = row.outcome;
  // The UPDATE holds the row lock, which insertEvent relies on.
  const event = await insertEvent(trx, id, 'status', data);
  return { evaluation: toEvaluation(row), event };
}

/** Inserts a queued evaluation and its first event (`status`, seq 1) in `trx`. */
async function insertEvaluation(trx: Knex.Transaction, input: CreateEvaluationInput): Promise<Evaluation> {
  const id = input.id ?? randomUUID();
  if (!isUuid(id)) throw new StorageInputError(`id must be a uuid, got ${JSON.stringify(id)}`, 'bad_id');
  const [row] = (await trx('evaluations')
    .insert({
      id,
      owner: input.owner,
      status: 'queued' satisfies Status,
      language: input.language,
      runtime: input.runtime,
      priority: input.priority,
      // node-postgres would send a JS array as a PostgreSQL array literal, not JSON: stringify.
      files: JSON.stringify(input.files),
      stdin: input.stdin,
      args: JSON.stringify(input.args),
      limits: JSON.stringify(input.limits),
      metadata: JSON.stringify(input.metadata),
      attempts: 0,
      request_id: input.requestId ?? null,
      ...(input.containerRuntime ? { container_runtime: input.containerRuntime } : {}),
    })
    .returning('*')) as EvaluationRow[];
  await insertEvent(trx, id, 'status', { status: 'queued' });
  return toEvaluation(row!);
}

/** Another request holds the idempotency key (internal to {@link EvaluationRepository.createOnce}). */
class KeyTaken extends Error {}

/** How long an idempotency key maps to its evaluation (API.md: at least 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Evaluations and their events. The only writer of `evaluations.status`: every status change goes
 * through {@link transition}, which enforces the state machine in the database itself.
 */
export class EvaluationRepository {
  constructor(private readonly knex: Knex) {}

  /** Inserts a queued evaluation and its first event (`status`, seq 1) in one transaction. */
  async create(input: CreateEvaluationInput): Promise<Evaluation> {
    return this.knex.transaction((trx) => insertEvaluation(trx, input));
  }

  /**
   * Creates the evaluation unless the owner already used `key` within `ttlMs`, in which case the
   * evaluation that key created is returned (`created: false`). Safe under concurrent duplicates:
   * the key row's primary key makes a racing insert wait for the first transaction and then lose,
   * and the loser rolls back its own evaluation and reads the winner's.
   */
  async createOnce(input: CreateEvaluationInput, key: string, ttlMs = IDEMPOTENCY_TTL_MS): Promise<{ evaluation: Evaluation; created: boolean }> {
    // Two rounds settle any race (the loser finds the winner's key); more means something is wrong.
    for (let round = 0; round < 5; round++) {
      const existing = await this.byIdempotencyKey(input.owner, key, ttlMs);
      if (existing) return { evaluation: existing, created: false };
      try {
        const evaluation = await this.knex.transaction(async (trx) => {
          const created = await insertEvaluation(trx, input);
          // Claims a free key, or takes over one older than the TTL; a live key yields no row.
          const claimed = await trx.raw<{ rows: unknown[] }>(
            `INSERT INTO idempotency_keys (owner, key, evaluation_id, created_at) VALUES (?, ?, ?, ${NOW})
             ON CONFLICT (owner, key) DO UPDATE SET evaluation_id = EXCLUDED.evaluation_id, created_at = EXCLUDED.created_at
               WHERE idempotency_keys.created_at < now() - (? * interval '1 millisecond')
             RETURNING evaluation_id`,
            [input.owner, key, created.id, ttlMs],
          );
          if (claimed.rows.length === 0) throw new KeyTaken();
          return created;
        });
        return { evaluation, created: true };
      } catch (err) {
        if (!(err instanceof KeyTaken)) throw err;
        // Lost the race: loop to read the winner's evaluation.
      }
    }
    throw new Error(`idempotency key ${JSON.stringify(key)} could not be claimed nor read`);
  }

  /** The evaluation `owner` created with idempotency `key` within `ttlMs`, if any. */
  async byIdempotencyKey(owner: string, key: string, ttlMs = IDEMPOTENCY_TTL_MS): Promise<Evaluation | undefined> {
    const row = (await this.knex('idempotency_keys as k')
      .join('evaluations as e', 'e.id', 'k.evaluation_id')
      .where({ 'k.owner': owner, 'k.key': key })
      .whereRaw("k.created_at >= now() - (? * interval '1 millisecond')", [ttlMs])
      .select('e.*')
      .first()) as EvaluationRow | undefined;
    return row && toEvaluation(row);
  }

  /** Deletes idempotency keys older than `ttlMs`; returns how many. */
  async purgeIdempotencyKeys(ttlMs = IDEMPOTENCY_TTL_MS): Promise<number> {
    // RETURNING, because not every driver reports a DELETE's row count.
    const rows = (await this.knex('idempotency_keys')
      .whereRaw("created_at < now() - (? * interval '1 millisecond')", [ttlMs])
      .delete()
      .returning('owner')) as unknown[];
    return rows.length;
  }

  /** The evaluation, or undefined if it does not exist, belongs to another `owner`, or `id` is no uuid. */
  async get(id: string, owner?: string): Promise<Evaluation | undefined> {
    if (!isUuid(id)) return undefined;
    const query = this.knex<EvaluationRow>('evaluations').where('id', id);
    if (owner !== undefined) query.where('owner', owner);
    const row = (await query.first()) as EvaluationRow | undefined;
    return row && toEvaluation(row);
  }

  /**
   * Newest first, keyset-paginated on (created_at, id) so pages stay stable while rows are added.
   * Throws a `bad_cursor` StorageInputError for a cursor it did not issue.
   */
  async list(query: ListEvaluationsQuery = {}): Promise<EvaluationPage> {
    const limit = pageSize(query.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const q = this.knex<EvaluationRow>('evaluations')
      .select('*')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      // One extra row tells whether another page exists without a COUNT.
      .limit(limit + 1);
    if (query.owner !== undefined) q.where('owner', query.owner);
    if (query.status !== undefined) q.where('status', query.status);
    if (query.language !== undefined) q.where('language', query.language);
    if (after) q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [after.createdAt, after.id]);
    const rows = (await q) as EvaluationRow[];
    const items = rows.slice(0, limit).map(toEvaluation);
    const last = items.at(-1);
    const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
    return { items, nextCursor };
  }

  /**
   * Moves an evaluation to `to` if the state machine allows it from its current status, and
   * records the `status` event in the same transaction. Returns null when it does not (unknown id,
   * or a status `to` cannot follow, such as any terminal one): repeating a transition is a no-op,
   * so duplicate or late reports from agents are harmless.
   *
   * The check and the write are one conditional UPDATE, so two racing callers cannot both win.
   * Leaving `queued` for `provisioning`/`running` counts an attempt and stamps `startedAt` once;
   * reaching a terminal status stamps `finishedAt`. Values in `patch` take precedence.
   */
  async transition(id: string, to: Status, patch: TransitionPatch = {}): Promise<TransitionResult | null> {
    if (!isUuid(id) || predecessors(to).length === 0) return null;
    return this.knex.transaction((trx) => transitionIn(trx, id, to, patch));
  }

  /**
   * Appends an event with the next seq (1, 2, …, no gaps even under concurrent appends: the
   * evaluation row is locked first). Throws a `not_found` StorageInputError for an unknown id.
   */
  async appendEvent(id: string, type: EventType, data: Record<string, unknown>): Promise<EvaluationEvent> {
    const notFound = () => new StorageInputError(`evaluation ${id} not found`, 'not_found');
    if (!isUuid(id)) throw notFound();
    return this.knex.transaction(async (trx) => {
      const locked = await trx('evaluations').select('id').where('id', id).forUpdate().first();
      if (!locked) throw notFound();
      return insertEvent(trx, id, type, data);
    });
  }

  /**
   * Appends an output chunk: its exact bytes, whatever they are (NUL, invalid UTF-8). Read back
   * as {@link OutputEventData}.
   */
  async appendOutput(id: string, stream: 'stdout' | 'stderr', bytes: Uint8Array): Promise<EvaluationEvent> {
    const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    return this.appendEvent(id, stream, { base64 });
  }

  /** Events with seq greater than `afterSeq`, in order: what an SSE client reconnecting after `afterSeq` missed. */
  async events(id: string, afterSeq = 0): Promise<EvaluationEvent[]> {
    if (!isUuid(id)) return [];
    const rows = (await this.knex<EventRow>('evaluation_events')
      .where('evaluation_id', id)
      .andWhere('seq', '>', afterSeq)
      .orderBy('seq', 'asc')) as EventRow[];
    return rows.map(toEvent);
  }

  /**
   * Up to `limit` queued, provisioning or running evaluations, oldest first, for reconciliation;
   * `after` (the last one of the previous page) continues the scan.
   */
  async unfinished(limit: number, after?: { createdAt: string; id: string }): Promise<Evaluation[]> {
    const size = pageSize(limit, limit, Number.MAX_SAFE_INTEGER);
    const q = this.knex<EvaluationRow>('evaluations')
      .whereIn('status', UNFINISHED)
      .orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(size);
    if (after) q.whereRaw('(created_at, id) > (?::timestamptz, ?::uuid)', [after.createdAt, after.id]);
    return ((await q) as EvaluationRow[]).map(toEvaluation);
  }

  /** How many evaluations are in `status` (e.g. `failed`: the dead-letter size). */
  async countByStatus(status: Status): Promise<number> {
    const row = (await this.knex('evaluations').where({ status }).count({ n: '*' }).first()) as { n: string | number } | undefined;
    return Number(row?.n ?? 0);
  }

  /**
   * Provisioning or running evaluations past their deadline (the scheduler's backstop): entered
   * that status (`updated_at`) longer ago than their `timeoutMs`, plus `compileAllowanceMs` (or the
   * timeout, if longer) for container runs, which may compile first, plus `graceMs`. Judged by the
   * database clock, oldest first, at most `limit`. Served by evaluations_unfinished_since_idx (0005).
   */
  async overdue(options: { graceMs: number; compileAllowanceMs: number; limit: number }): Promise<Evaluation[]> {
    const { graceMs, compileAllowanceMs, limit } = options;
    const budget = `((limits->>'timeoutMs')::bigint
      + CASE WHEN runtime = 'container' THEN GREATEST((limits->>'timeoutMs')::bigint, ?) ELSE 0 END + ?)`;
    const rows = (await this.knex<EvaluationRow>('evaluations')
      .whereIn('status', ['provisioning', 'running'] satisfies Status[])
      // No budget is below the grace alone: a range on the index first, then the exact deadline.
      .whereRaw("updated_at < now() - (? * interval '1 millisecond')", [graceMs])
      .whereRaw(`updated_at + ${budget} * interval '1 millisecond' < now()`, [compileAllowanceMs, graceMs])
      .orderBy([{ column: 'updated_at', order: 'asc' }, { column: 'id', order: 'asc' }])
      .limit(pageSize(limit, limit, MAX_PAGE_SIZE))) as EvaluationRow[];
    return rows.map(toEvaluation);
  }

  /**
   * Per unfinished status, the seconds the longest-waiting evaluation has been in it (since its
   * last status change, database clock); absent: none in that status.
   */
  async oldestUnfinishedAges(): Promise<Partial<Record<Status, number>>> {
    const ages: Partial<Record<Status, number>> = {};
    // One query per status: each is a single probe of evaluations_unfinished_since_idx (0005).
    for (const status of UNFINISHED) {
      const row = (await this.knex('evaluations')
        .where({ status })
        .select(this.knex.raw('EXTRACT(EPOCH FROM now() - MIN(updated_at))::float8 AS age'))
        .first()) as { age: number | string | null } | undefined;
      if (row?.age !== null && row?.age !== undefined) ages[status] = Math.max(0, Number(row.age));
    }
    return ages;
  }

  /** How many of `owner`'s evaluations are not finished yet (the per-owner concurrency cap). */
  async countUnfinished(owner: string): Promise<number> {
    const row = (await this.knex('evaluations').where({ owner }).whereIn('status', UNFINISHED).count({ n: '*' }).first()) as { n: string | number } | undefined;
    return Number(row?.n ?? 0);
  }
}
