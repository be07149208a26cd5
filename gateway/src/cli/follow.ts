import type { Client, Evaluation } from './client.js';
import type { Io } from './command.js';
import { jsonLine } from './output.js';

/**
 * Follows an evaluation's events to its end, writing its stdout and stderr as they arrive (or,
 * with `json`, every event as a JSON line). Returns the final Evaluation, or undefined when
 * `signal` aborted first.
 */
export async function follow(client: Client, id: string, io: Io, opts: { signal?: AbortSignal; json?: boolean } = {}): Promise<Evaluation | undefined> {
  const written = { stdout: 0, stderr: 0 };
  try {
    for await (const e of client.events(id, opts.signal)) {
      if (opts.json) io.stdout.write(jsonLine({ event: e.event, id: e.id ?? null, data: e.data }));
      else if (e.event === 'stdout' || e.event === 'stderr') {
        io[e.event].write(e.data.data);
        written[e.event] += e.data.data.length;
      }
      if (e.event !== 'done') continue;
      if (!opts.json) {
        // The stored result is the truth: print any tail the live feed did not carry.
        for (const stream of ['stdout', 'stderr'] as const) {
          const rest = e.data[stream].slice(written[stream]);
          if (rest) io[stream].write(rest);
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
