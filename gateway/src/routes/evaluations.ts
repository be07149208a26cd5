import Router from '@koa/router';
import type { EvaluationRepository } from '@crucible/storage';
import { STATUSES } from '@crucible/storage/domain';
import type { EventBus } from '@crucible/scheduler';
import { audit } from '../auth/audit.js';
import { requireRole } from '../auth/middleware.js';
import { ApiError, errorBody, invalidRequest, notFound } from '../errors.js';
import type { EvaluationService } from '../evaluation-service.js';
import { evaluationsAccepted } from '../metrics.js';
import { outputEncoding, presentEvaluation } from '../presenter.js';
import { BatchRequest } from '../schemas.js';
import { streamEvents } from '../sse.js';
import { validate } from '../validation.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface EvaluationRoutesDeps {
  service: EvaluationService;
  evaluations: EvaluationRepository;
  bus: EventBus;
  maxWaitSeconds: number;
}

/** `/v1/evaluations`: submit, batch, list, read, cancel and the SSE event stream (API.md). */
export function evaluationRoutes({ service, evaluations, bus, maxWaitSeconds }: EvaluationRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/evaluations' });

  router.post('/', requireRole('admin', 'researcher'), async (ctx) => {
    const wait = parseWait(ctx.query.wait, maxWaitSeconds);
    const output = outputEncoding(ctx.query.output);
    const key = parseIdempotencyKey(ctx.get('idempotency-key'));
    const submitted = await service.submit(ctx.state.owner, ctx.state.body, ctx.state.requestId, key);
    let evaluation = submitted.evaluation;
    if (submitted.created) evaluationsAccepted.inc({ language: evaluation.language, runtime: evaluation.runtime });
    if (wait > 0) evaluation = await service.waitForTerminal(ctx.state.owner, evaluation.id, wait * 1000);
    const finished = ['completed', 'failed', 'cancelled'].includes(evaluation.status);
    // A repeated key answers 200 with the evaluation it created (API.md), whatever its state.
    ctx.status = !submitted.created ? 200 : wait > 0 && finished ? 201 : 202;
    if (!submitted.created) ctx.set('Idempotent-Replayed', 'true');
    ctx.set('Location', `/v1/evaluations/${evaluation.id}`);
    ctx.body = presentEvaluation(evaluation, { output });
  });

  router.post('/batch', requireRole('admin', 'researcher'), async (ctx) => {
    const { evaluations: items } = validate<{ evaluations: unknown[] }>(BatchRequest, ctx.state.body);
    const output = outputEncoding(ctx.query.output);
    const results = [];
    // Backpressure for the whole batch: 503 when the queue is full; items past the room left get
    // their own `queue_full` error, so a client resubmits exactly those.
    // With an Idempotency-Key, item i uses the key `<key>#<i>`: resending the same batch with the
    // same key returns the evaluations already created and creates only the missing ones.
    const key = parseIdempotencyKey(ctx.get('idempotency-key'));
    let room = 0;
    let full: ApiError | undefined;
    try {
      room = await service.checkRoom(items.length);
    } catch (err) {
      // A replayed item creates nothing, so a resent batch is answered even when the queue is full
      // (as a single replay is); the batch is refused whole only if none of its items is a replay.
      if (key === undefined || !(err instanceof ApiError && err.code === 'queue_full')) throw err;
      full = err;
    }
    let replays = 0;
    // Sequential on purpose: keeps input order in storage and does not flood the database.
    for (const [index, item] of items.entries()) {
      try {
        const itemKey = key === undefined ? undefined : `${key}#${index}`;
        const replayed = itemKey === undefined ? undefined : await service.replay(ctx.state.owner, itemKey, item, ctx.state.requestId);
        if (replayed) {
          replays++;
          results.push(presentEvaluation(replayed, { output }));
          continue;
        }
        const input = await service.prepare(ctx.state.owner, item, ctx.state.requestId);
        if (room <= 0) throw new ApiError(503, 'queue_full', 'the queue is full; resubmit this item later');
        const evaluation = await service.accept(input, itemKey);
        room--;
        evaluationsAccepted.inc({ language: evaluation.language, runtime: evaluation.runtime });
        results.push(presentEvaluation(evaluation, { output }));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'queue_full') {
          results.push(errorBody(err.code, err.message));
          continue;
        }
        if (!(err instanceof ApiError) || err.status >= 500) throw err;
        results.push(errorBody(err.code, err.message, err.details));
      }
    }
    if (full && replays === 0) throw full;
    ctx.status = 202;
    ctx.body = { items: results };
  });

  router.get('/', async (ctx) => {
    const { status, language, cursor } = ctx.query;
    const output = outputEncoding(ctx.query.output);
    if (status !== undefined && !(STATUSES as readonly unknown[]).includes(status)) {
      throw invalidRequest(`status must be one of ${STATUSES.join(', ')}`, { field: 'status' });
    }
    const limit = ctx.query.limit === undefined ? 50 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalidRequest('limit must be an integer from 1 to 200', { field: 'limit' });
    let page;
    try {
      page = await evaluations.list({
        owner: ctx.state.owner,
        status: status as (typeof STATUSES)[number] | undefined,
        language: typeof language === 'string' ? language : undefined,
        limit,
        cursor: typeof cursor === 'string' ? cursor : undefined,
      });
    } catch (err) {
      if ((err as Error).name === 'StorageInputError') throw invalidRequest((err as Error).message, { field: 'cursor' });
      throw err;
    }
    ctx.body = { items: page.items.map((e) => presentEvaluation(e, { output })), nextCursor: page.nextCursor };
  });

  router.get('/:id', async (ctx) => {
    const output = outputEncoding(ctx.query.output);
    ctx.body = presentEvaluation(await service.get(ctx.state.owner, checkId(ctx.params.id)), { output });
  });

  router.post('/:id/cancel', requireRole('admin', 'researcher'), async (ctx) => {
    const output = outputEncoding(ctx.query.output);
    const evaluation = await service.cancel(ctx.state.owner, checkId(ctx.params.id));
    await audit(ctx, { action: 'evaluation.cancel', target: evaluation.id, outcome: 'success', details: { status: evaluation.status } });
    ctx.body = presentEvaluation(evaluation, { output });
  });

  router.get('/:id/events', async (ctx) => {
    const output = outputEncoding(ctx.query.output);
    const evaluation = await service.get(ctx.state.owner, checkId(ctx.params.id));
    await streamEvents(ctx, evaluation.id, evaluations, bus, { output });
  });

  return router;
}

function checkId(id: string | undefined): string {
  if (!id || !UUID.test(id)) throw notFound(`evaluation ${id ?? ''}`);
  return id.toLowerCase();
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function parseIdempotencyKey(value: string): string | undefined {
  if (value === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw invalidRequest('Idempotency-Key must be 1 to 255 visible ASCII characters', { field: 'Idempotency-Key' });
  }
  return value;
}

function parseWait(value: unknown, max: number): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n < 0 || n > max) {
    throw invalidRequest(`wait must be a number of seconds from 0 to ${max}`, { field: 'wait' });
  }
  return n;
}
