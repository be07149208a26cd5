import type { Context, Next } from 'koa';
import { ApiError } from './errors.js';

/**
 * Reads a JSON request body with a size bound. Only `application/json` is accepted: anything else
 * is 415, a body over `limitBytes` is 413 (reading stops at the bound), malformed JSON is 400.
 */
export function jsonBody(limitBytes: number) {
  return async (ctx: Context, next: Next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(ctx.method)) return next();
    const length = Number(ctx.get('content-length') || 0);
    const hasBody = length > 0 || ctx.get('transfer-encoding') !== '';
    if (!hasBody) {
      ctx.state.body = undefined;
      return next();
    }
    if (!ctx.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'request bodies must be application/json');
    }
    if (length > limitBytes) throw tooLarge(limitBytes);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw tooLarge(limitBytes);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      ctx.state.body = text.length === 0 ? undefined : JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
    }
    checkShape(ctx.state.body);
    return next();
  };
}

/** Bounds on any JSON body, before schema validation: how deep it nests and how long an array or object is. */
export const MAX_DEPTH = 16;
export const MAX_ITEMS = 1000;

/**
 * Walks a parsed body once: refuses deep nesting and huge arrays/objects (cheap requests that cost
 * a lot to validate or store) and NUL characters (PostgreSQL text and jsonb cannot hold them; a
 * binary file is sent base64). Errors name the offending field.
 */
export function checkShape(value: unknown, path = '', depth = 0): void {
  const field = path || 'body';
  if (typeof value === 'string') {
    checkText(value, field);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) throw new ApiError(400, 'invalid_request', `${field} nests deeper than ${MAX_DEPTH} levels`, [{ field, message: 'too deep' }]);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length > MAX_ITEMS) throw new ApiError(400, 'invalid_request', `${field} has more than ${MAX_ITEMS} entries`, [{ field, message: 'too many entries' }]);
  for (const [key, child] of entries) {
    checkText(key, `${field} (a key)`);
    checkShape(child, path ? `${path}.${key}` : key, depth + 1);
  }
}

/** A lone UTF-16 surrogate (JSON allows `"\ud800"`) is not text: PostgreSQL's jsonb refuses it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkText(text: string, field: string): void {
  if (text.includes('\u0000')) throw new ApiError(400, 'invalid_request', `${field} contains a NUL character (send binary content base64)`, [{ field, message: 'contains NUL' }]);
  if (LONE_SURROGATE.test(text)) throw new ApiError(400, 'invalid_request', `${field} is not valid Unicode (a lone surrogate)`, [{ field, message: 'lone surrogate' }]);
}

const tooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `request body exceeds ${limit} bytes`);
