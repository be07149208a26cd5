import Router from '@koa/router';
import type { AuditRepository } from '@crucible/storage';
import { requireRole } from '../auth/middleware.js';
import { invalidRequest } from '../errors.js';

/** `GET /v1/audit?limit=&cursor=&action=` (admin): the security audit log, newest first. */
export function auditRoutes(auditLog: AuditRepository): Router {
  const router = new Router();
  router.get('/v1/audit', requireRole('admin'), async (ctx) => {
    const limit = ctx.query.limit === undefined ? 50 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidRequest('limit must be an integer from 1 to 500', { field: 'limit' });
    const { cursor, action } = ctx.query;
    if (cursor !== undefined && typeof cursor !== 'string') throw invalidRequest('cursor must be given once', { field: 'cursor' });
    if (action !== undefined && (typeof action !== 'string' || !/^[a-z_.]{1,64}$/.test(action))) throw invalidRequest('action is malformed', { field: 'action' });
    try {
      const page = await auditLog.list({ limit, cursor, action });
      ctx.body = { items: page.items.map(({ details, ...rest }) => ({ ...rest, details: details ?? undefined })), nextCursor: page.nextCursor };
    } catch (err) {
      if ((err as Error).name === 'StorageInputError') throw invalidRequest((err as Error).message, { field: 'cursor' });
      throw err;
    }
  });
  return router;
}
