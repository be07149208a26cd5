import type { Command, CommandContext } from '../command.js';
import { follow } from '../follow.js';
import { EXIT, exitFor } from '../outcome.js';
import { jsonLine } from '../output.js';
import { REQUEST_OPTIONS, REQUEST_USAGE, requestDefaults, requestForFiles } from '../source.js';

const SINK = { write: () => true };

export const run: Command = {
  name: 'run',
  summary: 'run files and stream their output; exit with the program\'s exit code',
  usage: `crucible run FILE... [options]

Submits FILE (more files go alongside it), prints its stdout and stderr as they arrive, and exits
with the program's exit code; 124 on timeout, 137 when killed or over the memory or output limit,
125 when the platform could not run it, 130 when cancelled. Ctrl-C cancels the evaluation.
With --json, prints the finished Evaluation instead of the output.

${REQUEST_USAGE}`,
  options: REQUEST_OPTIONS,
  async run(ctx: CommandContext): Promise<number> {
    const { client, io } = ctx;
    const request = await requestForFiles(ctx.positionals, ctx.values.lang as string | undefined, await requestDefaults(ctx.values, io.readStdin), client);
    // Ctrl-C aborts the stream only; the submission is left to finish so its id is known and
    // the evaluation can be cancelled rather than left running unseen.
    const interrupt = new AbortController();
    const unregister = io.onInterrupt(() => interrupt.abort());
    try {
      const submitted = await client.submit(request);
      // With --json the output is in the printed Evaluation, so the live copy is dropped.
      const shown = ctx.json ? { ...io, stdout: SINK, stderr: SINK } : io;
      const final = interrupt.signal.aborted ? undefined : await follow(client, submitted.id, shown, { signal: interrupt.signal });
      if (!final) {
        await client.cancel(submitted.id);
        io.stderr.write(`crucible: interrupted; cancelled evaluation ${submitted.id}\n`);
        return EXIT.cancelled;
      }
      if (ctx.json) io.stdout.write(jsonLine(final));
      const { code, note } = exitFor(final);
      if (note) io.stderr.write(`crucible: ${note}\n`);
      return code;
    } finally {
      unregister();
    }
  },
};
