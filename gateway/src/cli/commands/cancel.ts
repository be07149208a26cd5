import type { Command } from '../command.js';
import { jsonLine } from '../output.js';
import { onlyId } from './status.js';

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a queued or running evaluation',
  usage: `crucible cancel ID

Cancels the evaluation and prints "ID STATUS"; one already finished is left as it is.`,
  options: {},
  async run({ positionals, json, client, io }) {
    const e = await client.cancel(onlyId(positionals, 'cancel'));
    io.stdout.write(json ? jsonLine(e) : `${e.id} ${e.status}\n`);
    return 0;
  },
};
