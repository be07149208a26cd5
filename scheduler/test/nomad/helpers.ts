/** Polls `fn` until it returns something other than undefined (or false), or fails after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined | false>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');

/**
 * What `/opt/crucible` is on a provisioned node, for the fake's processes: the executor job runs
 * `/usr/bin/node /opt/crucible/<package>/dist/main.js`; here that is this checkout's source,
 * run through tsx like every other test process.
 */
export function crucibleCheckout(command: string, args: string[]): { command: string; args: string[] } {
  const m = /^\/opt\/crucible\/([\w-]+)\/dist\/main\.js$/.exec(args[0] ?? '');
  if (!command.endsWith('/node') || !m) return { command, args };
  // The task's working directory is its allocation directory, so tsx is named by its resolved URL.
  return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), '--conditions=source', resolve(REPO, m[1]!, 'src/main.ts'), ...args.slice(1)] };
}
