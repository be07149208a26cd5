import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Context, Next } from 'koa';
import { ApiError } from './errors.js';
import { SITE_CSP } from './request-context.js';

/**
 * Where `vite build` writes the status site (gateway/site/vite.config.ts). The same path from
 * src/ (tests run the gateway from source with tsx) and from dist/ (`./crucible up`).
 */
export const DEFAULT_SITE_DIR = resolve(import.meta.dirname, '../dist/site');

/** Pages the site routes in the browser: each is answered with index.html, so links and reloads work. */
const CLIENT_ROUTES = /^\/(?:|submit|history|sign-in|evaluations\/[^/]+)$/;
/** A top-level file or one under assets/; no dot files, no subfolders, so no path can climb out. */
const SITE_FILE = /^\/((?:assets\/)?[A-Za-z0-9_-][A-Za-z0-9._-]*)$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built status site under the site's CSP. Anything that is not a site page or file
 * falls through to the API, whose responses keep their own `default-src 'none'` policy.
 */
export function staticSite(dir = DEFAULT_SITE_DIR) {
  const root = resolve(dir);
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const page = CLIENT_ROUTES.test(ctx.path);
    const name = page ? 'index.html' : SITE_FILE.exec(ctx.path)?.[1];
    if (!name) return next();
    const path = resolve(root, name);
    if (!path.startsWith(root + sep)) return next();
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      if (page) throw new ApiError(503, 'unavailable', 'the status site is not built: run ./crucible up or npm run build:site -w gateway');
      return next();
    }
    ctx.set('Content-Security-Policy', SITE_CSP);
    // Asset names carry a content hash, so they never change; pages must always be revalidated.
    ctx.set('Cache-Control', name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.type = TYPES[extname(path)] ?? 'application/octet-stream';
    ctx.length = info.size;
    ctx.body = createReadStream(path);
  };
}
