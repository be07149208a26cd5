import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface CliConfig {
  /** The gateway's base URL, without a trailing slash. */
  url: string;
  /** Sent as `Authorization: Bearer`; undefined sends no header. */
  key: string | undefined;
  /** The config file consulted (it may not exist). */
  file: string;
}

interface ConfigFile {
  url?: string;
  key?: string;
}

/**
 * Reads the CLI's configuration once, at the edge. Precedence, highest first: the `--url` flag,
 * `CRUCIBLE_URL` / `CRUCIBLE_KEY`, the config file `$XDG_CONFIG_HOME/crucible/config.json`
 * (`~/.config/crucible/config.json` by default), then the default URL.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: { url?: string } = {}): Readonly<CliConfig> {
  const file = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'crucible', 'config.json');
  const fromFile = readConfigFile(file);
  const url = flags.url || env.CRUCIBLE_URL || fromFile.url || DEFAULT_URL;
  return Object.freeze({ url: checkUrl(url), key: env.CRUCIBLE_KEY || fromFile.key || undefined, file });
}

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 'config');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON`, 'config');
  }
  const ok = (v: unknown) => v === undefined || typeof v === 'string';
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)
    || !ok((parsed as ConfigFile).url) || !ok((parsed as ConfigFile).key)) {
    throw new CliError(`${file} must be a JSON object {"url"?: string, "key"?: string}`, 'config');
  }
  return parsed as ConfigFile;
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`"${url}" is not a URL`, 'config', 2);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliError(`"${url}" is not an http(s) URL`, 'config', 2);
  return url.replace(/\/+$/, '');
}
