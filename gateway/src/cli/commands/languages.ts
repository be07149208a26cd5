import type { Command } from '../command.js';
import { usageError } from '../errors.js';
import { jsonLine, table } from '../output.js';

export const languages: Command = {
  name: 'languages',
  summary: 'list the platform\'s languages and whether they can run now',
  usage: `crucible languages

Prints GET /v1/languages as a table (with --json, as returned).`,
  options: {},
  async run({ positionals, json, client, io }) {
    if (positionals.length) throw usageError(`languages takes no arguments, got "${positionals[0]}"`);
    const langs = await client.languages();
    if (json) io.stdout.write(jsonLine(langs));
    else {
      const rows = langs.map((l) => [l.id, l.name, l.version, l.runtime, l.available ? 'yes' : `no: ${l.reason ?? 'unknown'}`]);
      io.stdout.write(table(['ID', 'NAME', 'VERSION', 'RUNTIME', 'AVAILABLE'], rows));
    }
    return 0;
  },
};
