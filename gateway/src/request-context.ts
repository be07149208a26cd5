import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id (a valid incoming `X-Request-Id` is kept) and returns it. */
export function requestId() {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    ctx.state.requestId = VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}

/** API responses are data: a browser must run and load nothing from them. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The status site's pages and assets: everything from this origin only, and no inline script or
 * style, so output that slipped into the page as markup still could not run (static.ts sets it).
 */
export const SITE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers that make a browser treat every response as data (the site's files replace the CSP). */
export function securityHeaders() {
  return async (ctx: Context, next: Next) => {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': API_CSP,
      'Cache-Control': 'no-store',
    });
    await next();
  };
}

/**
 * Logs one JSON line per request (pino) with its id, route, status, duration and user, and gives
 * handlers `ctx.state.log`, a child logger carrying the request id. Never the body, query values
 * or headers: they may hold keys, tokens or submitted code.
 */
export function requestLog(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    ctx.state.log = log.child({ requestId: ctx.state.requestId });
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
      ctx.state.log.info(
        { method: ctx.method, route: route ? String(route) : undefined, status: ctx.status, ms: Math.round(performance.now() - started), ip: ctx.ip },
        'request',
      );
    }
  };
}

/**
 * CORS is off unless origins are configured: then only those origins get the headers, and
 * preflights are answered here. Credentials travel in the Authorization header, never cookies.
 */
export function cors(origins: readonly string[]) {
  const allowed = new Set(origins);
  return async (ctx: Context, next: Next) => {
    const origin = ctx.get('origin');
    if (allowed.size === 0 || !origin || !allowed.has(origin)) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.vary('Origin');
    ctx.set('Access-Control-Expose-Headers', 'X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, Location');
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      ctx.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    return next();
  };
}

/**
 * Refuses a NUL character or malformed percent-encoding in the path or query: PostgreSQL text
 * cannot hold NUL, and no valid request needs one.
 */
export function cleanUrl() {
  return async (ctx: Context, next: Next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(ctx.path) + decodeURIComponent(ctx.querystring.replaceAll('+', ' '));
    } catch {
      throw new ApiError(400, 'invalid_request', 'the URL is not valid percent-encoded UTF-8', { field: 'url' });
    }
    if (decoded.includes('\u0000')) throw new ApiError(400, 'invalid_request', 'the URL contains a NUL character', { field: 'url' });
    return next();
  };
}
