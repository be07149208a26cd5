import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { EvaluationRepository, Role } from '@crucible/storage';
import { ApiError } from '../errors.js';
import { authFailures, rateLimited } from '../metrics.js';
import { audit, type Auditor } from './audit.js';
import type { Authenticator } from './authenticator.js';
import { AuthFailure, type Principal } from './principal.js';
import type { Budget, RateLimiter } from './rate-limit.js';

/**
 * What answers without a credential, and why (gateway/SECURITY.md):
 * - health, readiness and metrics: probes and Prometheus scrape them without secrets; they name no
 *   user data (readiness shows component health, metrics only low-cardinality labels);
 * - the OpenAPI document and the language list: public facts about the server, needed before sign-in;
 * - refresh: the refresh token in the body is the credential.
 * The status site's files are served before this middleware runs (static.ts); its data needs a key.
 */
const PUBLIC: ReadonlySet<string> = new Set([
  'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /v1/openapi.json', 'GET /v1/languages', 'POST /v1/auth/refresh',
]);

export function isPublic(ctx: Context): boolean {
  const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
  return PUBLIC.has(`${method} ${ctx.path}`);
}

export interface AuthMiddlewareDeps {
  authenticator: Authenticator;
  auditor: Auditor;
  limiter: RateLimiter;
  log: Logger;
}

/**
 * Authenticates every request that is not public (deny by default: a route added later is
 * protected without doing anything). Sets `ctx.state.principal`, and `ctx.state.owner` (the user
 * id) that every evaluation query is scoped by.
 */
export function authenticate({ authenticator, auditor, limiter, log }: AuthMiddlewareDeps) {
  return async (ctx: Context, next: Next) => {
    ctx.state.auditor = auditor;
    if (isPublic(ctx)) return next();
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(ctx.get('authorization'));
    } catch (err) {
      if (err instanceof AuthFailure) await refuse(ctx, err, limiter);
      // Only the message: a database error would carry its query parameters.
      log.error({ err: { message: (err as Error).message }, requestId: ctx.state.requestId }, 'authentication could not be checked');
      throw new ApiError(503, 'unavailable', 'authentication is unavailable; retry shortly', undefined, true, { 'Retry-After': '1' });
    }
    ctx.state.principal = principal;
    ctx.state.owner = principal.userId;
    ctx.state.log = ctx.state.log?.child({ user: principal.userId });
    return next();
  };
}

/**
 * Answers an authentication failure: counted, audited (a missing credential is only counted: it is
 * a client that has not signed in, not an attempt), and throttled per client address so a guesser
 * meets 429s. Always throws.
 */
export async function refuse(ctx: Context, failure: AuthFailure, limiter: RateLimiter): Promise<never> {
  authFailures.inc({ reason: failure.reason });
  if (failure.reason !== 'missing') {
    await audit(ctx, {
      action: failure.reason === 'refresh_reuse' ? 'auth.refresh_reuse' : 'auth.failure',
      outcome: 'failure',
      actor: null,
      target: routeOf(ctx),
      details: { reason: failure.reason },
    });
    const decision = await limiter.take('auth', ctx.ip || 'unknown');
    if (decision && !decision.allowed) throw tooMany('auth', decision.retryAfterMs);
  }
  throw new ApiError(401, 'unauthenticated', failure.message, { reason: failure.reason }, true, { 'WWW-Authenticate': 'Bearer realm="crucible"' });
}

/**
 * Allows only `roles`; others get 403 `forbidden`, and the denial is audited. Apply per route:
 * `router.post('/v1/dlq/:id/retry', requireRole('admin'), handler)`.
 */
export function requireRole(...roles: Role[]) {
  return async (ctx: Context, next: Next) => {
    const principal = ctx.state.principal as Principal | undefined;
    if (!principal) throw new ApiError(401, 'unauthenticated', 'authentication required');
    if (!roles.includes(principal.role)) {
      await audit(ctx, { action: 'role.denied', outcome: 'denied', target: routeOf(ctx), details: { role: principal.role, needs: roles } });
      throw new ApiError(403, 'forbidden', `this needs the ${roles.join(' or ')} role; you are ${principal.role}`, { role: principal.role, needs: roles });
    }
    return next();
  };
}

/** What a request was aimed at, for the audit log: bounded, since the path is the client's. */
function routeOf(ctx: Context): string {
  return `${ctx.method} ${ctx.path}`.slice(0, 200);
}

/** Submissions spend the `submit` budget; every other authenticated request the `read` budget. */
export function budgetOf(ctx: Context): Budget {
  return ctx.method === 'POST' && /^\/v1\/evaluations(?:\/batch)?\/?$/.test(ctx.path) ? 'submit' : 'read';
}

/** Token-bucket rate limiting per API key, with `RateLimit-Policy`/`RateLimit` headers; 429 when spent. */
export function rateLimit(limiter: RateLimiter, log: Logger) {
  return async (ctx: Context, next: Next) => {
    const principal = ctx.state.principal as Principal | undefined;
    if (!principal) return next();
    const budget = budgetOf(ctx);
    const decision = await limiter.take(budget, principal.keyId);
    if (!decision) {
      log.warn({ requestId: ctx.state.requestId }, 'rate limiter unavailable (Redis); request allowed');
      return next();
    }
    ctx.set('RateLimit-Policy', limiter.policyHeader(budget));
    ctx.set('RateLimit', limiter.stateHeader(budget, decision));
    if (!decision.allowed) throw tooMany(budget, decision.retryAfterMs);
    return next();
  };
}

function tooMany(budget: Budget, retryAfterMs: number): ApiError {
  rateLimited.inc({ budget });
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError(429, 'rate_limited', `too many requests (${budget} budget); retry in ${seconds} s`, { budget, retryAfterSeconds: seconds }, true, {
    'Retry-After': String(seconds),
  });
}

/**
 * A cap on each user's unfinished (queued or running) evaluations, checked before a submission:
 * 429 `rate_limited` when a submission would go over it. A batch counts all its items.
 */
export function concurrencyCap(evaluations: EvaluationRepository, max: number) {
  return async (ctx: Context, next: Next) => {
    if (budgetOf(ctx) !== 'submit' || !ctx.state.principal) return next();
    const items = (ctx.state.body as { evaluations?: unknown } | undefined)?.evaluations;
    const adding = ctx.path.startsWith('/v1/evaluations/batch') && Array.isArray(items) ? items.length : 1;
    const active = await evaluations.countUnfinished(ctx.state.owner);
    if (active + adding > max) {
      rateLimited.inc({ budget: 'concurrency' });
      throw new ApiError(429, 'rate_limited', `at most ${max} unfinished evaluations per user; ${active} are queued or running`, {
        budget: 'concurrency', active, max,
      }, true, { 'Retry-After': '5' });
    }
    return next();
  };
}
