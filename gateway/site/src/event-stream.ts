import { apiHeaders, errorFrom } from './api';
import type { Evaluation, Outcome, Status } from './types';

export interface EvaluationEvents {
  status(data: { status: Status; outcome?: Outcome | null }): void;
  stdout(data: { data: string }): void;
  stderr(data: { data: string }): void;
  done(evaluation: Evaluation): void;
  /** The stream cannot go on (e.g. 404); reconnecting would not help. */
  failed(err: Error): void;
}

interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Follows `GET /v1/evaluations/{id}/events` until `done`, then stops (the server closes the stream
 * after `done`; reconnecting then would only replay it). Read with fetch rather than EventSource
 * because EventSource cannot send the `Authorization` header every request must carry. A dropped
 * connection is resumed with `Last-Event-ID`, so the server replays only what was missed.
 * Returns a function that stops following.
 */
export function followEvaluation(id: string, on: EvaluationEvents): () => void {
  const abort = new AbortController();
  let lastEventId: string | undefined;
  let finished = false;

  const dispatch = (message: SseMessage) => {
    if (message.id) lastEventId = message.id;
    const data = JSON.parse(message.data);
    if (message.event === 'status') on.status(data);
    else if (message.event === 'stdout') on.stdout(data);
    else if (message.event === 'stderr') on.stderr(data);
    else if (message.event === 'done') {
      finished = true;
      on.done(data);
    }
  };

  void (async () => {
    for (let attempt = 0; !finished && !abort.signal.aborted; attempt++) {
      try {
        const headers = await apiHeaders('text/event-stream');
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const res = await fetch(`/v1/evaluations/${encodeURIComponent(id)}/events`, { headers, signal: abort.signal });
        if (res.status >= 400 && res.status < 500) return on.failed(await errorFrom(res));
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        for await (const message of readSse(res.body)) {
          attempt = 0;
          dispatch(message);
          if (finished) break;
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      if (!finished) await sleep(Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS), abort.signal);
    }
    abort.abort();
  })();
  return () => abort.abort();
}

/**
 * Follows `GET /v1/events` (status changes of every evaluation of the signed-in owner) and calls
 * `onChange` for each, debounced so a burst costs one refresh. The feed has no replay, so
 * `onChange` is also called after every (re)connection to catch up. Returns a function that stops.
 */
export function followStatusChanges(onChange: () => void, debounceMs = 200): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  void (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        const res = await fetch('/v1/events', { headers: await apiHeaders('text/event-stream'), signal: abort.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        changed();
        for await (const message of readSse(res.body)) {
          attempt = 0;
          if (message.event === 'status') changed();
        }
      } catch {
        if (abort.signal.aborted) return;
      }
      await sleep(Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS), abort.signal);
    }
  })();
  return () => {
    clearTimeout(timer);
    abort.abort();
  };
}

/** Parses a text/event-stream body into messages (comments and keepalives are skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      // stream: true keeps a UTF-8 sequence split across chunks intact.
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message = parseBlock(block);
        if (message) yield message;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): SseMessage | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length ? { event, data: data.join('\n'), id } : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
