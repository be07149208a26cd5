import type { Outcome, Status } from '@crucible/storage/domain';
import type { LanguageInfo } from '@crucible/executor-agent/protocol';
import type { SubmitRequest } from '../submit-request.js';
import type { presentEvaluation } from '../presenter.js';
import { CliError } from './errors.js';
import { SseParser } from './sse.js';

/** The API's `Evaluation`, exactly as the gateway presents it. */
export type Evaluation = ReturnType<typeof presentEvaluation>;

/** A `POST /v1/evaluations` body (API.md): the gateway's own request type. */
export type EvaluationRequest = SubmitRequest;

/** One entry of `GET /v1/languages`. */
export type Language = LanguageInfo;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The events of `GET /v1/evaluations/{id}/events`, parsed. */
export type EvaluationEvent =
  | { event: 'status'; id: string | undefined; data: { status: Status; outcome?: Outcome | null } }
  | { event: 'stdout' | 'stderr'; id: string | undefined; data: { data: string; dataBase64?: string } }
  | { event: 'done'; id: string | undefined; data: Evaluation };

export interface ClientOptions {
  url: string;
  key?: string;
  /** Per request, except event streams (which stay open while the program runs). */
  timeoutMs?: number;
}

/** How often a dropped event stream is re-opened (resuming after the last event) before giving up. */
const STREAM_RETRIES = 5;

/** A small client of the HTTP API: JSON requests, one error shape, and the SSE event stream. */
export class Client {
  constructor(private readonly opts: ClientOptions) {}

  get url(): string {
    return this.opts.url;
  }

  submit(request: EvaluationRequest): Promise<Evaluation> {
    return this.json('POST', '/v1/evaluations', request);
  }

  /** With `bytes`, the output's exact bytes come too (`?output=base64`: stdoutBase64, stderrBase64). */
  get(id: string, opts: { bytes?: boolean } = {}): Promise<Evaluation> {
    return this.json('GET', `/v1/evaluations/${encodeURIComponent(id)}${opts.bytes ? '?output=base64' : ''}`);
  }

  cancel(id: string): Promise<Evaluation> {
    return this.json('POST', `/v1/evaluations/${encodeURIComponent(id)}/cancel`);
  }

  list(query: { status?: string; language?: string; limit?: number; cursor?: string }): Promise<{ items: Evaluation[]; nextCursor: string | null }> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.json('GET', `/v1/evaluations${qs ? `?${qs}` : ''}`);
  }

  /** `POST /v1/evaluations/batch`: results in input order, each an Evaluation or `{error}`. */
  batch(evaluations: unknown[]): Promise<{ items: (Evaluation | ApiErrorBody)[] }> {
    return this.json('POST', '/v1/evaluations/batch', { evaluations });
  }

  languages(): Promise<Language[]> {
    return this.json('GET', '/v1/languages');
  }

  /**
   * The evaluation's events: what already happened, then live ones, ending with `done`. A stream
   * that drops before `done` is re-opened with `Last-Event-ID`, so nothing is repeated or lost.
   * With `bytes`, output events carry their exact bytes (`dataBase64`) and `done` its fields.
   */
  async *events(id: string, signal?: AbortSignal, opts: { bytes?: boolean } = {}): AsyncGenerator<EvaluationEvent> {
    let lastId: string | undefined;
    let opened = false;
    for (let failures = 0; ; ) {
      let res: Response;
      try {
        res = await this.fetch('GET', `/v1/evaluations/${encodeURIComponent(id)}/events${opts.bytes ? '?output=base64' : ''}`, undefined, {
          signal,
          headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        });
      } catch (err) {
        // Only a connection that dropped is retried: a platform never reached, or an answer such
        // as 404, is final at once.
        if (!opened || !(err instanceof CliError) || err.code !== 'unreachable' || ++failures > STREAM_RETRIES) throw err;
        await sleep(250 * 2 ** failures, signal);
        continue;
      }
      if (!res.ok) throw await errorOf(res);
      opened = true;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (const raw of parser.push(decoder.decode(chunk, { stream: true }))) {
            failures = 0;
            if (raw.id !== undefined) lastId = raw.id;
            const event = { event: raw.event, id: raw.id, data: JSON.parse(raw.data) } as EvaluationEvent;
            yield event;
            if (event.event === 'done') return;
          }
        }
      } catch (err) {
        if (signal?.aborted) throw err;
      }
      if (++failures > STREAM_RETRIES) throw new CliError(`the event stream of ${id} kept closing before the end`, 'stream_closed');
      await sleep(250 * 2 ** failures, signal);
    }
  }

  /** Waits for the evaluation's end and returns it (its output events are skipped). */
  async waitForDone(id: string, signal?: AbortSignal): Promise<Evaluation> {
    for await (const event of this.events(id, signal)) if (event.event === 'done') return event.data;
    throw new CliError(`the event stream of ${id} ended without a result`, 'stream_closed');
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 120_000) });
    if (!res.ok) throw await errorOf(res);
    try {
      return (await res.json()) as T;
    } catch {
      throw new CliError(`${method} ${path} answered ${res.status} with a body that is not JSON`, 'bad_response');
    }
  }

  private async fetch(method: string, path: string, body: unknown, init: { signal?: AbortSignal; headers?: Record<string, string> }): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.opts.key) headers.authorization = `Bearer ${this.opts.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.opts.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new CliError(`${method} ${path} got no answer from ${this.opts.url} in time`, 'request_timeout');
      if ((err as Error).name === 'AbortError') throw err;
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is in `cause`.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.opts.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 'unreachable');
    }
  }
}

/** The API's `{error: {code, message}}` as a CliError; anything else by its HTTP status. */
async function errorOf(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as ApiErrorBody;
    if (typeof error?.message === 'string' && typeof error.code === 'string') return new CliError(error.message, error.code);
  } catch {
    // not the API's error body: fall through
  }
  return new CliError(`${res.url} answered HTTP ${res.status} ${res.statusText}`.trim(), `http_${res.status}`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** Tells a batch item's `{error}` from an Evaluation (which has an `error` field of its own). */
export const isApiError = (item: Evaluation | ApiErrorBody): item is ApiErrorBody => !('id' in item);
