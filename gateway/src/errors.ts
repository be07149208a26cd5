import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/**
 * The one error type of the API: an HTTP status, a stable snake_case code and a human sentence.
 * `expose: false` hides the message (5xx faults) behind a generic one.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly expose = status < 500,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const invalidRequest = (message: string, details?: unknown) => new ApiError(400, 'invalid_request', message, details);

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Renders every thrown error, in exactly one place, as the API.md error body. Never a stack trace. */
export function errorHandler(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new ApiError(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
    } catch (err) {
      const apiError = toApiError(err);
      // Exposed 5xx answers (queue_full, unavailable) are expected conditions, not faults to log as errors.
      if (apiError.status >= 500 && !apiError.expose) log.error({ err: redacted(err), requestId: ctx.state.requestId, path: ctx.path, method: ctx.method }, 'request failed');
      ctx.status = apiError.status;
      ctx.set(apiError.headers);
      ctx.body = errorBody(apiError.code, apiError.expose ? apiError.message : 'internal error', apiError.expose ? apiError.details : undefined);
    }
  };
}

/**
 * What of an unexpected error is logged: its kind, message, code and stack. Not the whole object:
 * a database error carries the query's parameters, which hold submitted code and stdin.
 */
function redacted(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err).slice(0, 500) };
  return { type: err.name, message: err.message.slice(0, 1000), code: (err as { code?: unknown }).code, stack: err.stack };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // Errors raised by Koa itself (e.g. ctx.throw) carry a status; keep it but not their internals.
  const status = (err as { status?: number })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, status === 404 ? 'not_found' : 'invalid_request', (err as Error).message);
  }
  return new ApiError(500, 'internal', 'internal error', undefined, false);
}
