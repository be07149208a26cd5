import Router from '@koa/router';
import type { UserRepository } from '@crucible/storage';
import type { Accounts } from '../auth/accounts.js';
import { audit } from '../auth/audit.js';
import { refuse } from '../auth/middleware.js';
import { AuthFailure, type Principal } from '../auth/principal.js';
import type { RateLimiter } from '../auth/rate-limit.js';
import { RefreshRequest } from '../auth/schemas.js';
import { ApiError } from '../errors.js';
import { validate } from '../validation.js';

/** `POST /v1/auth/token` (API key → access + refresh), `POST /v1/auth/refresh` (rotate), `GET /v1/auth/me`. */
export function authRoutes(accounts: Accounts, users: UserRepository, limiter: RateLimiter): Router {
  const router = new Router({ prefix: '/v1/auth' });

  router.post('/token', async (ctx) => {
    const principal = ctx.state.principal as Principal;
    // A token must not mint tokens: otherwise a stolen access token could be extended forever.
    if (principal.via !== 'key') throw new ApiError(401, 'unauthenticated', 'exchange an API key (crk_...) for tokens, not an access token', { reason: 'needs_api_key' });
    const pair = await accounts.exchange(principal);
    await audit(ctx, { action: 'auth.token', target: principal.keyId, outcome: 'success' });
    ctx.body = pair;
  });

  router.post('/refresh', async (ctx) => {
    const { refreshToken } = validate<{ refreshToken: string }>(RefreshRequest, ctx.state.body);
    try {
      const { pair, principal } = await accounts.refresh(refreshToken);
      await audit(ctx, { action: 'auth.refresh', target: principal.keyId, outcome: 'success', actor: principal.userId });
      ctx.body = pair;
    } catch (err) {
      if (err instanceof AuthFailure) await refuse(ctx, err, limiter);
      throw err;
    }
  });

  router.get('/me', async (ctx) => {
    const principal = ctx.state.principal as Principal;
    const user = await users.get(principal.userId);
    ctx.body = { id: principal.userId, name: user?.name ?? '', role: principal.role, keyId: principal.keyId, via: principal.via };
  });

  return router;
}
