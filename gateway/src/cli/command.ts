import type { ParseArgsConfig } from 'node:util';
import type { Client } from './client.js';
import type { OutStream } from './output.js';

/** The process as commands see it; `main.ts` is the only place that touches the real one. */
export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  /** Reads all of this process's stdin (for `--stdin -`). */
  readStdin(): Promise<string>;
  /**
   * Calls `handler` on the first Ctrl-C (a second one exits at once); returns the un-register
   * function. Without a handler, Ctrl-C ends the CLI as usual.
   */
  onInterrupt(handler: () => void): () => void;
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  values: Values;
  positionals: string[];
  /** `--json`: machine-readable output on stdout. */
  json: boolean;
  client: Client;
  io: Io;
}

export interface Command {
  name: string;
  /** One line for `crucible help`. */
  summary: string;
  /** The synopsis and option lines for `crucible help <name>`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}
