import type { ApiErrorBody, Client, Evaluation, EvaluationRequest } from '../client.js';
import { isApiError } from '../client.js';
import type { Command } from '../command.js';
import { CliError, usageError } from '../errors.js';
import { readBatch, type BatchItem } from '../batch-input.js';
import { EXIT } from '../outcome.js';
import { Progress, dash, evaluationCells, jsonLine, table } from '../output.js';
import { REQUEST_OPTIONS, REQUEST_USAGE, requestDefaults } from '../source.js';

/** The API's batch maximum (API.md). */
const CHUNK_ITEMS = 1000;
/** Below the gateway's default 4 MiB body limit, so a chunk of large files is split, not refused. */
const CHUNK_BYTES = 3 * 1024 * 1024;
/** Event streams open at once while following; evaluations finish roughly in order, so a window suffices. */
const FOLLOWERS = 16;

interface Result {
  source: string;
  evaluation?: Evaluation;
  error?: ApiErrorBody['error'];
}

export const batch: Command = {
  name: 'batch',
  summary: 'run a directory of files or a .jsonl of requests; print a summary table',
  usage: `crucible batch DIR|FILE.jsonl [options]

DIR: one evaluation per file (language by extension; other files are skipped unless --lang).
FILE.jsonl: one request object (as POST /v1/evaluations takes) per line; the options below fill
in what a line leaves out. Submits in chunks of at most 1000, shows progress on stderr, then
prints a table (id, source, status, outcome, exit code, duration). With --json, prints one JSON
line per evaluation as it finishes instead: {"source", "evaluation"} or {"source", "error"}.
Exits 0 when every evaluation succeeded, 1 otherwise.

${REQUEST_USAGE}`,
  options: REQUEST_OPTIONS,
  async run({ values, positionals, json, client, io }) {
    if (positionals.length !== 1) throw usageError('batch takes one directory or .jsonl file');
    const { items, skipped } = await readBatch(positionals[0]!, values.lang as string | undefined, await requestDefaults(values, io.readStdin));
    if (skipped.length) io.stderr.write(`crucible: skipped ${skipped.length} file(s) of unknown extension (pass --lang to include them): ${skipped.join(', ')}\n`);
    if (items.length === 0) throw usageError(`nothing to run in ${positionals[0]}`);

    const results = await submitAll(client, items);
    for (const r of results) {
      if (!r.error) continue;
      if (json) io.stdout.write(jsonLine({ source: r.source, error: r.error }));
      else io.stderr.write(`crucible: ${r.source} was rejected: ${r.error.message} (${r.error.code})\n`);
    }

    const pending = results.filter((r) => r.evaluation);
    const interrupt = new AbortController();
    const unregister = io.onInterrupt(() => interrupt.abort());
    const progress = new Progress(pending.length, io.stderr);
    try {
      let next = 0;
      const worker = async () => {
        while (next < pending.length && !interrupt.signal.aborted) {
          const r = pending[next++]!;
          try {
            r.evaluation = await client.waitForDone(r.evaluation!.id, interrupt.signal);
          } catch (err) {
            if (interrupt.signal.aborted) return;
            throw err;
          }
          progress.tick(r.evaluation.outcome === 'success');
          if (json) io.stdout.write(jsonLine({ source: r.source, evaluation: r.evaluation }));
        }
      };
      await Promise.all(Array.from({ length: Math.min(FOLLOWERS, pending.length) }, worker));
    } finally {
      unregister();
    }
    if (pending.length) progress.finish();
    if (interrupt.signal.aborted) {
      io.stderr.write(`crucible: interrupted; the evaluations go on (crucible list shows them)\n`);
      return EXIT.cancelled;
    }
    if (!json) {
      io.stdout.write(table(['ID', 'SOURCE', 'STATUS', 'OUTCOME', 'EXIT', 'DURATION'], results.map(row)));
      io.stdout.write(`${summary(results)}\n`);
    }
    return results.every((r) => r.evaluation?.outcome === 'success') ? 0 : 1;
  },
};

/**
 * Submits every item through the batch endpoint in chunks (≤ 1000 items, ≤ CHUNK_BYTES). A chunk
 * the API refuses as a whole marks its items with that error; an unreachable platform ends the
 * command.
 */
async function submitAll(client: Client, items: BatchItem[]): Promise<Result[]> {
  const results: Result[] = [];
  for (const chunk of chunks(items)) {
    try {
      const { items: answers } = await client.batch(chunk.map((i) => i.request));
      chunk.forEach((item, i) => {
        const answer = answers[i];
        if (!answer) results.push({ source: item.source, error: { code: 'bad_response', message: 'the batch answer has no item for it' } });
        else if (isApiError(answer)) results.push({ source: item.source, error: answer.error });
        else results.push({ source: item.source, evaluation: answer });
      });
    } catch (err) {
      if (!(err instanceof CliError) || err.code === 'unreachable' || err.code === 'request_timeout') {
        throw results.length && err instanceof CliError ? new CliError(`${err.message} (after ${results.length} of ${items.length} were submitted)`, err.code) : err;
      }
      for (const item of chunk) results.push({ source: item.source, error: { code: err.code, message: err.message } });
    }
  }
  return results;
}

function* chunks(items: BatchItem[]): Generator<BatchItem[]> {
  let chunk: BatchItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item.request satisfies EvaluationRequest));
    if (chunk.length && (chunk.length === CHUNK_ITEMS || bytes + size > CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += size;
  }
  if (chunk.length) yield chunk;
}

function row(r: Result): string[] {
  if (!r.evaluation) return ['-', r.source, 'rejected', dash(r.error?.code), '-', '-'];
  const c = evaluationCells(r.evaluation);
  return [r.evaluation.id, r.source, c.status, c.outcome, c.exit, c.duration];
}

/** E.g. "3 evaluations: 2 success, 1 timeout". */
function summary(results: Result[]): string {
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = !r.evaluation ? 'rejected' : r.evaluation.outcome ?? r.evaluation.status;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([k, n]) => `${n} ${k}`);
  return `${results.length} evaluation${results.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
