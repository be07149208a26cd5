import Router from '@koa/router';
import type { ApiKeyRecord, UserRepository } from '@crucible/storage';
import type { Accounts } from '../auth/accounts.js';
import { audit } from '../auth/audit.js';
import type { Principal } from '../auth/principal.js';
import { notFound } from '../errors.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stored key as the API shows it: never the hash. */
export function presentKey(k: ApiKeyRecord) {
  return { id: k.id, prefix: k.prefix, userId: k.userId, createdAt: k.createdAt };
}

/** `DELETE /v1/keys/{id}` (admin, or the key's owner): the key, and tokens made from it, stop working at once. */
export function keyRoutes(accounts: Accounts, users: UserRepository): Router {
  const router = new Router({ prefix: '/v1/keys' });

  router.delete('/:id', async (ctx) => {
    const principal = ctx.state.principal as Principal;
    const id = (ctx.params.id ?? '').toLowerCase();
    const key = UUID.test(id) ? await users.getKey(id) : undefined;
    if (!key || (principal.role !== 'admin' && key.userId !== principal.userId)) {
      if (key) await audit(ctx, { action: 'key.revoke', target: key.id, outcome: 'denied' });
      throw notFound(`key ${ctx.params.id ?? ''}`);
    }
    await accounts.revokeKey(key.id);
    await audit(ctx, { action: 'key.revoke', target: key.id, outcome: 'success', details: { user: key.userId, prefix: key.prefix } });
    ctx.status = 204;
  });

  return router;
}
