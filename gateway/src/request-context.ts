import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

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
 * Until authentication exists every request acts as one owner; every row already carries it, so
 * auth only has to set `ctx.state.owner` from the credential.
 */
export function fixedOwner(owner: string) {
  return async (ctx: Context, next: Next) => {
    ctx.state.owner = owner;
    await next();
  };
}
