import type { Command } from '../command.js';
import { jsonLine } from '../output.js';
import { REQUEST_OPTIONS, REQUEST_USAGE, requestDefaults, requestForFiles } from '../source.js';

export const submit: Command = {
  name: 'submit',
  summary: 'submit files without waiting; print the evaluation id',
  usage: `crucible submit FILE... [options]

Submits like \`run\` but returns at once, printing only the new evaluation's id (with --json, the
Evaluation), e.g. ID=$(crucible submit main.py).

${REQUEST_USAGE}`,
  options: REQUEST_OPTIONS,
  async run({ values, positionals, json, client, io }) {
    const request = await requestForFiles(positionals, values.lang as string | undefined, await requestDefaults(values, io.readStdin), client);
    const evaluation = await client.submit(request);
    io.stdout.write(json ? jsonLine(evaluation) : `${evaluation.id}\n`);
    return 0;
  },
};
