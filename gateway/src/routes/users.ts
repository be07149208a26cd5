import Router from '@koa/router';
import type { Role, UserRepository } from '@crucible/storage';
import type { Accounts } from '../auth/accounts.js';
import { audit } from '../auth/audit.js';
import { requireRole } from '../auth/middleware.js';
import type { Principal } from '../auth/principal.js';
import { CreateUserRequest } from '../auth/schemas.js';
import { notFound } from '../errors.js';
import { validate } from '../validation.js';
import { UUID, presentKey } from './keys.js';

/** `POST /v1/users` (admin) and `POST /v1/users/{id}/keys` (admin, or the user itself). */
export function userRoutes(accounts: Accounts, users: UserRepository): Router {
  const router = new Router({ prefix: '/v1/users' });

  router.post('/', requireRole('admin'), async (ctx) => {
    const { name, role } = validate<{ name: string; role: Role }>(CreateUserRequest, ctx.state.body);
    const user = await accounts.createUser(name, role);
    await audit(ctx, { action: 'user.create', target: user.id, outcome: 'success', details: { role } });
    ctx.status = 201;
    ctx.body = { id: user.id, name: user.name, role: user.role, createdAt: user.createdAt };
  });

  router.post('/:id/keys', async (ctx) => {
    const principal = ctx.state.principal as Principal;
    const id = ctx.params.id ?? '';
    // Someone else's user looks exactly like a missing one: 404, so ids cannot be probed.
    const allowed = principal.role === 'admin' || id === principal.userId;
    const user = allowed && UUID.test(id) ? await users.get(id.toLowerCase()) : undefined;
    if (!user) {
      if (!allowed) await audit(ctx, { action: 'key.create', target: id.slice(0, 64), outcome: 'denied' });
      throw notFound(`user ${id}`);
    }
    const issued = await accounts.createKey(user.id);
    await audit(ctx, { action: 'key.create', target: issued.record.id, outcome: 'success', details: { user: user.id, prefix: issued.record.prefix } });
    ctx.status = 201;
    ctx.body = { ...presentKey(issued.record), key: issued.key };
  });

  return router;
}
