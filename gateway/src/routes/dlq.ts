import Router from '@koa/router';
import type { DeadLetterRepository } from '@crucible/storage';
import { audit } from '../auth/audit.js';
import { requireRole } from '../auth/middleware.js';
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
 * across all owners, and retrying one. Admin only, since it spans every owner; retries are audited.
 */
export function dlqRoutes({ service, deadLetters }: DlqRoutesDeps): Router {
  const router = new Router({ prefix: '/v1/dlq' });
  router.get('/', requireRole('admin'), async (ctx) => {
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

  router.post('/:id/retry', requireRole('admin'), async (ctx) => {
    const id = ctx.params.id;
    if (!id || !UUID.test(id)) throw notFound(`dead letter ${id ?? ''}`);
    try {
      ctx.body = presentEvaluation(await service.retryDeadLetter(id.toLowerCase()));
    } catch (err) {
      await audit(ctx, { action: 'dlq.retry', target: id, outcome: 'failure', details: { error: (err as Error).message } });
      throw err;
    }
    await audit(ctx, { action: 'dlq.retry', target: id, outcome: 'success' });
  });

  return router;
}
