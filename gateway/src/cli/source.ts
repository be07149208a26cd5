import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { PRIORITIES, type Priority } from '@crucible/storage/domain';
import type { Client, EvaluationRequest } from './client.js';
import { CliError, usageError } from './errors.js';

/** File extension → language id. The server's `GET /v1/languages` is the list of ids itself. */
const EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.sh': 'bash',
  '.c': 'c',
  '.cpp': 'cpp',
  '.cc': 'cpp',
  '.wat': 'wasm',
  '.wasm': 'wasm',
});

/** The language a file's extension names, if any. */
export function languageOf(path: string): string | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** Options shared by `run`, `submit` and `batch` (the request's language, input and limits). */
export const REQUEST_OPTIONS = {
  lang: { type: 'string', short: 'l' },
  stdin: { type: 'string' },
  arg: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  priority: { type: 'string' },
  wasm: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const REQUEST_USAGE = `  -l, --lang L      language id (default: from the first file's extension: .py python,
                    .js/.mjs javascript, .wat/.wasm wasm; \`crucible languages\` lists ids)
  --stdin FILE      the program's standard input (- reads this command's stdin)
  --arg A           a program argument (repeatable)
  --timeout MS      wall-clock limit in milliseconds
  --memory MB       memory limit in MiB
  --priority P      high, normal or low
  --wasm            run in the Wasm runtime (runtime: "wasm")`;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The request fields given by REQUEST_OPTIONS, except the language and code. `readStdin` is how
 * `--stdin -` reads this process's own input.
 */
export async function requestDefaults(values: Values, readStdin: () => Promise<string>): Promise<Omit<EvaluationRequest, 'language'>> {
  const out: Omit<EvaluationRequest, 'language'> = {};
  const stdin = values.stdin as string | undefined;
  if (stdin !== undefined) out.stdin = stdin === '-' ? await readStdin() : await readText(stdin, '--stdin');
  const args = values.arg as string[] | undefined;
  if (args?.length) out.args = args;
  const limits: EvaluationRequest['limits'] = {};
  if (values.timeout !== undefined) limits.timeoutMs = positiveInt(values.timeout as string, '--timeout');
  if (values.memory !== undefined) limits.memoryMb = positiveInt(values.memory as string, '--memory');
  if (Object.keys(limits).length) out.limits = limits;
  const priority = values.priority as string | undefined;
  if (priority !== undefined) {
    if (!(PRIORITIES as readonly string[]).includes(priority)) throw usageError(`--priority must be one of ${PRIORITIES.join(', ')}`);
    out.priority = priority as Priority;
  }
  if (values.wasm) out.runtime = 'wasm';
  return out;
}

/**
 * A request for `paths` (the first is the program's main file) with `defaults` applied. The
 * language is `lang`, else the first file's extension; an unknown one is a usage error listing
 * the server's languages when it can be reached.
 */
export async function requestForFiles(
  paths: string[],
  lang: string | undefined,
  defaults: Omit<EvaluationRequest, 'language'>,
  client: Client,
): Promise<EvaluationRequest> {
  if (paths.length === 0) throw usageError('no file given');
  const language = lang ?? languageOf(paths[0]!) ?? (await unknownExtension(paths[0]!, client));
  const files = await Promise.all(paths.map(readSource));
  return { language, files, ...defaults };
}

/** One file as the API's `{name, content, encoding}`: UTF-8 text as is, anything else in base64. */
export async function readSource(path: string): Promise<{ name: string; content: string; encoding: 'utf8' | 'base64' }> {
  const bytes = await readBytes(path, 'file');
  const name = basename(path);
  if (extname(path).toLowerCase() === '.wasm') return { name, content: bytes.toString('base64'), encoding: 'base64' };
  try {
    return { name, content: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { name, content: bytes.toString('base64'), encoding: 'base64' };
  }
}

async function unknownExtension(path: string, client: Client): Promise<never> {
  // The list is advice: when the platform cannot be reached, say what to do without it.
  const ids = await client.languages().then((ls) => ls.map((l) => l.id).join(', '), () => '');
  throw usageError(`cannot tell the language of ${basename(path)} from its extension; pass --lang${ids ? ` (one of ${ids})` : ''}`);
}

/** A file as UTF-8 text; an unreadable one is a usage error naming `what` it was for. */
export async function readText(path: string, what: string): Promise<string> {
  return (await readBytes(path, what)).toString('utf8');
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new CliError(`cannot read ${what} ${path}: ${reason}`, 'file', 2);
  }
}

/** A flag's value as a positive integer, or a usage error naming the flag. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw usageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
