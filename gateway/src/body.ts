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
    return next();
  };
}

const tooLarge = (limit: number) => new ApiError(413, 'payload_too_large', `request body exceeds ${limit} bytes`);
