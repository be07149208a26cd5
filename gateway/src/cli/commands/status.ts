import type { Command } from '../command.js';
import { usageError } from '../errors.js';
import { dash, duration, jsonLine } from '../output.js';

export const status: Command = {
  name: 'status',
  summary: 'show one evaluation',
  usage: `crucible status ID

Prints the evaluation's status, outcome, exit code and timings (with --json, the Evaluation).`,
  options: {},
  async run({ positionals, json, client, io }) {
    const id = onlyId(positionals, 'status');
    const e = await client.get(id);
    if (json) {
      io.stdout.write(jsonLine(e));
      return 0;
    }
    const rows: [string, string][] = [
      ['id', e.id],
      ['status', e.status],
      ['outcome', dash(e.outcome)],
      ['language', `${e.language} (${e.runtime})`],
      ['exit code', dash(e.exitCode)],
      ...(e.signal ? [['signal', e.signal] as [string, string]] : []),
      ['duration', duration(e.durationMs)],
      ['created', e.createdAt],
      ['started', dash(e.startedAt)],
      ['finished', dash(e.finishedAt)],
      ['attempts', String(e.attempts)],
      ['output', `${e.stdout.length} chars stdout${e.stdoutTruncated ? ' (truncated)' : ''}, ${e.stderr.length} chars stderr${e.stderrTruncated ? ' (truncated)' : ''}`],
      ...(e.error ? [['error', e.error] as [string, string]] : []),
    ];
    for (const [k, v] of rows) io.stdout.write(`${k.padEnd(11)}${v}\n`);
    return 0;
  },
};

/** The single ID argument of `status`, `logs` and `cancel`. */
export function onlyId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw usageError(`${command} takes exactly one evaluation id`);
  return positionals[0]!;
}
