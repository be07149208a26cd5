import type { Command } from '../command.js';
import { exactBytes, follow } from '../follow.js';
import { jsonLine } from '../output.js';
import { onlyId } from './status.js';

export const logs: Command = {
  name: 'logs',
  summary: 'print an evaluation\'s stdout and stderr (-f follows it live)',
  usage: `crucible logs ID [-f]

Prints the output so far to stdout and stderr. With -f, replays it and follows the evaluation live
until it ends (Ctrl-C stops following; the evaluation goes on). Exits 0 either way; \`status\` tells
how it ended. With --json: the output fields, or with -f one JSON line per event.

  -f, --follow      follow until the evaluation ends`,
  options: { follow: { type: 'boolean', short: 'f' } },
  async run({ values, positionals, json, client, io }) {
    const id = onlyId(positionals, 'logs');
    if (values.follow) {
      await follow(client, id, io, { json });
      return 0;
    }
    const e = await client.get(id, { bytes: true });
    if (json) {
      const { stdout, stderr, stdoutBase64, stderrBase64, stdoutTruncated, stderrTruncated, status } = e;
      io.stdout.write(jsonLine({ id: e.id, status, stdout, stderr, stdoutBase64, stderrBase64, stdoutTruncated, stderrTruncated }));
    } else {
      // The exact bytes the program wrote, whatever they are (NUL, invalid UTF-8, escapes).
      io.stdout.write(exactBytes(e.stdoutBase64, e.stdout));
      io.stderr.write(exactBytes(e.stderrBase64, e.stderr));
    }
    return 0;
  },
};
