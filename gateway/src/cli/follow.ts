import type { Client, Evaluation } from './client.js';
import type { Io } from './command.js';
import { jsonLine } from './output.js';

/**
 * Follows an evaluation's events to its end, writing its stdout and stderr as they arrive (or,
 * with `json`, every event as a JSON line). Returns the final Evaluation, or undefined when
 * `signal` aborted first.
 */
export async function follow(client: Client, id: string, io: Io, opts: { signal?: AbortSignal; json?: boolean } = {}): Promise<Evaluation | undefined> {
  // Bytes, not characters: the program's output is written exactly as it wrote it (issue 12).
  const written = { stdout: 0, stderr: 0 };
  try {
    for await (const e of client.events(id, opts.signal, { bytes: !opts.json })) {
      if (opts.json) io.stdout.write(jsonLine({ event: e.event, id: e.id ?? null, data: e.data }));
      else if (e.event === 'stdout' || e.event === 'stderr') {
        const bytes = exactBytes(e.data.dataBase64, e.data.data);
        io[e.event].write(bytes);
        written[e.event] += bytes.length;
      }
      if (e.event !== 'done') continue;
      if (!opts.json) {
        // The stored result is the truth: print any tail the live feed did not carry.
        for (const stream of ['stdout', 'stderr'] as const) {
          const rest = exactBytes(e.data[`${stream}Base64`], e.data[stream]).subarray(written[stream]);
          if (rest.length > 0) io[stream].write(rest);
        }
      }
      return e.data;
    }
  } catch (err) {
    if (opts.signal?.aborted) return undefined;
    throw err;
  }
  return undefined;
}

/** The exact bytes when the platform sent them (base64), else the text's UTF-8 (an older gateway). */
export function exactBytes(base64: string | undefined, text: string): Buffer {
  return base64 === undefined ? Buffer.from(text, 'utf8') : Buffer.from(base64, 'base64');
}
