#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { text } from 'node:stream/consumers';
import { Client } from './client.js';
import type { Command, Io } from './command.js';
import { batch } from './commands/batch.js';
import { cancel } from './commands/cancel.js';
import { languages } from './commands/languages.js';
import { list } from './commands/list.js';
import { logs } from './commands/logs.js';
import { run } from './commands/run.js';
import { status } from './commands/status.js';
import { submit } from './commands/submit.js';
import { DEFAULT_URL, loadConfig } from './config.js';
import { CliError, usageError } from './errors.js';
import { EXIT } from './outcome.js';

const COMMANDS: readonly Command[] = [run, submit, status, logs, cancel, list, batch, languages];

/** Options every command takes. */
const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_USAGE = `  --url URL         the platform (else $CRUCIBLE_URL, the config file, ${DEFAULT_URL})
  --json            machine-readable output on stdout
  -h, --help        this help`;

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: crucible <command> [options]   (./crucible <command> in a checkout)

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  this list; \`crucible help COMMAND\` for one command

Options of every command:
${GLOBAL_USAGE}

Configuration: CRUCIBLE_URL and CRUCIBLE_KEY (sent as a Bearer token), else
~/.config/crucible/config.json {"url", "key"}; --url wins over both.
Errors are one line on stderr: exit 2 for usage errors, 1 for API and network errors.
`;
}

const help = (c: Command) => `usage: ${c.usage}\n\nOptions of every command:\n${GLOBAL_USAGE}\n`;

/** Runs the CLI for `argv` (without node and the script) and returns the exit code. */
async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const which = name === 'help' && rest[0] !== undefined ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !which) throw usageError(`unknown command "${rest[0]}"; \`crucible help\` lists them`);
    io.stdout.write(which ? help(which) : overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw usageError(`unknown command "${name}"; \`crucible help\` lists them`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs' message for an unknown option is a paragraph; the option's name is what matters.
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
    const message = unknown ? `unknown option ${unknown[1]}` : (err as Error).message.replace(/\.?\s*$/, '');
    throw usageError(`${message}; see \`crucible help ${name}\``);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(help(command));
    return 0;
  }
  const config = loadConfig(env, { url: values.url as string | undefined });
  const client = new Client({ url: config.url, key: config.key });
  return command.run({ values, positionals, json: values.json === true, client, io });
}

/** The real process: its streams, its Ctrl-C, and the one place errors are printed. */
const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => text(process.stdin),
  onInterrupt(handler) {
    let count = 0;
    const listener = () => (count++ === 0 ? handler() : process.exit(EXIT.cancelled));
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
};

/** Exits once stdout and stderr are flushed (pipes are asynchronous on some systems). */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2), process.env, processIo).then(exit, (err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`crucible: ${err.message.replace(/\s*\n\s*/g, ' ')} (${err.code})\n`);
    exit(err.exitCode);
  } else {
    process.stderr.write(`crucible: ${(err as Error)?.message ?? String(err)} (internal)\n`);
    exit(1);
  }
});
