/** One event of `/v1/event/stream`: `Payload` holds the object named by `Topic` (e.g. `{Allocation: {...}}`). */
export interface NomadEvent {
  Topic: string;
  Type: string;
  Key: string;
  Index?: number;
  Namespace?: string;
  Payload: Record<string, unknown>;
}

/** One NDJSON line: the events committed at one Raft index. */
export interface NomadEventFrame {
  Index: number;
  Events: NomadEvent[];
}

/**
 * Splits the event stream's NDJSON into frames. Nomad sends `{}` every few seconds as a heartbeat;
 * those are skipped. A line that is not JSON ends the stream with an error rather than being
 * silently dropped: a missed allocation event would go unnoticed.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<NomadEventFrame> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  let buffered = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const frame = parseLine(line);
        if (frame) yield frame;
      }
    }
    const frame = parseLine(buffered.trim());
    if (frame) yield frame;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.releaseLock();
  }
}

function parseLine(line: string): NomadEventFrame | undefined {
  if (line === '') return undefined;
  let parsed: Partial<NomadEventFrame>;
  try {
    parsed = JSON.parse(line) as Partial<NomadEventFrame>;
  } catch {
    throw new Error(`event stream: not JSON: ${line.slice(0, 200)}`);
  }
  if (!Array.isArray(parsed.Events)) return undefined; // heartbeat `{}`
  return { Index: Number(parsed.Index ?? 0), Events: parsed.Events };
}
