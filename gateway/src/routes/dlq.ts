import Router from '@koa/router';
import type { DeadLetterRepository } from '@crucible/storage';
import { invalidRequest, notFound } from '../errors.js';
import type { EvaluationService } from '../evaluation-service.js';
import { presentEvaluation } from '../presenter.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DlqRoutesDeps {
  service: EvaluationService;
  deadLetters: DeadLetterRepository;
}

/**
 * The dead-letter queue (API.md "Platform"): evaluations the platform gave up on after its retries,
 * across all owners, and retrying one.
 */
export function dlqRoutes({ service, deadLetters }: DlqRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/dlq' });
  // Admin only once auth exists: the role check (admin) goes here, before both routes.

  router.get('/', async (ctx) => {
    const limit = ctx.query.limit === undefined ? 50 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalidRequest('limit must be an integer from 1 to 200', { field: 'limit' });
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    try {
      ctx.body = await deadLetters.list({ limit, cursor });
    } catch (err) {
      if ((err as Error).name === 'StorageInputError') throw invalidRequest((err as Error).message, { field: 'cursor' });
      throw err;
    }
  });

  router.post('/:id/retry', async (ctx) => {
    const id = ctx.params.id;
    if (!id || !UUID.test(id)) throw notFound(`dead letter ${id ?? ''}`);
    ctx.body = presentEvaluation(await service.retryDeadLetter(id.toLowerCase()));
  });

  return router;
}
