import { STATUSES } from '@crucible/storage/domain';
import type { Command } from '../command.js';
import { usageError } from '../errors.js';
import { evaluationCells, jsonLine, table } from '../output.js';
import { positiveInt } from '../source.js';

export const list: Command = {
  name: 'list',
  summary: 'list evaluations, newest first',
  usage: `crucible list [--status S] [--language L] [--limit N] [--cursor C]

Prints a table of evaluations (with --json, the API's {items, nextCursor}). When there are more,
says on stderr how to get the next page.

  --status S        ${STATUSES.join(', ')}
  --language L      a language id
  --limit N         at most N (1 to 200; default 50)
  --cursor C        the page after C (from the previous page)`,
  options: {
    status: { type: 'string' },
    language: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
  },
  async run({ values, positionals, json, client, io }) {
    if (positionals.length) throw usageError(`list takes no arguments, got "${positionals[0]}"`);
    const page = await client.list({
      status: values.status as string | undefined,
      language: values.language as string | undefined,
      limit: values.limit === undefined ? undefined : positiveInt(values.limit as string, '--limit'),
      cursor: values.cursor as string | undefined,
    });
    if (json) {
      io.stdout.write(jsonLine(page));
      return 0;
    }
    const rows = page.items.map((e) => {
      const c = evaluationCells(e);
      return [e.id, c.status, c.outcome, e.language, c.exit, c.duration, e.createdAt];
    });
    io.stdout.write(table(['ID', 'STATUS', 'OUTCOME', 'LANGUAGE', 'EXIT', 'DURATION', 'CREATED'], rows));
    if (page.nextCursor) io.stderr.write(`more: crucible list --cursor ${page.nextCursor}\n`);
    return 0;
  },
};
