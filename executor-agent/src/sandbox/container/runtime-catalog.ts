import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMIT_KEYS, type Limits } from '@crucible/storage/domain';

/** `executor-agent/runtimes/`, from both `src/sandbox/container/` and `dist/sandbox/container/`. */
export const DEFAULT_RUNTIMES_DIR = fileURLToPath(new URL('../../../runtimes/', import.meta.url));

/** The script that builds the images; its content is part of every runtime's hash. */
const BUILD_SCRIPT = 'build-images.sh';

/** One language runtime, from `runtimes/<id>/runtime.json`, with the image its definition builds. */
export interface RuntimeDefinition {
  id: string;
  name: string;
  /** Debian packages installed on top of the essential set. */
  packages: string[];
  /** The entry file, when a submission has one by this name; otherwise its first file is. */
  mainFile: string;
  /** The command that runs the entry file, which is appended, then the request's args. */
  run: string[];
  /** Run once at build time; its output is the image's `crucible.runtime.version` label. */
  versionCommand: string[];
  /** File in the runtime's folder that must print `OK`. */
  smoke: string;
  /** Ceilings this runtime puts on the server's limits (see `resolveLimits`). */
  maxLimits: Partial<Limits>;
  /** sha256 of the definition, exactly as build-images.sh computes it. */
  hash: string;
  /** `crucible/<id>:<hash12>`: the only image this definition may run in. */
  image: string;
  /** Folder holding the definition. */
  dir: string;
}

/** Reads every `<dir>/<id>/runtime.json`. A malformed definition is a deployment bug: it throws. */
export async function loadRuntimeCatalog(dir: string = DEFAULT_RUNTIMES_DIR): Promise<RuntimeDefinition[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const found = await Promise.all(
    folders.map(async (id) => {
      const folder = join(dir, id);
      let raw: string;
      try {
        raw = await readFile(join(folder, 'runtime.json'), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const hash = await runtimeHash(dir, folder);
      return parseDefinition(JSON.parse(raw) as unknown, id, folder, hash);
    }),
  );
  return found.filter((d): d is RuntimeDefinition => d !== undefined);
}

/**
 * The content hash of a runtime's definition: sha256 over `sha256sum`-style lines for the build
 * script and then every file of the folder (as `./path`, in byte order). build-images.sh computes
 * the same; a test checks that they agree.
 */
export async function runtimeHash(runtimesDir: string, runtimeDir: string): Promise<string> {
  const line = async (path: string, name: string) => `${sha256(await readFile(path))}  ${name}\n`;
  const files = (await listFiles(runtimeDir))
    .map((p) => `./${relative(runtimeDir, p).split(sep).join('/')}`)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines = [await line(join(runtimesDir, BUILD_SCRIPT), BUILD_SCRIPT)];
  for (const name of files) lines.push(await line(join(runtimeDir, name), name));
  return sha256(lines.join(''));
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function parseDefinition(json: unknown, id: string, dir: string, hash: string): RuntimeDefinition {
  const where = join(dir, 'runtime.json');
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null) fail('not an object');
  const o = json as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : fail(`"${k}" must be a non-empty string`));
  const strs = (k: string) =>
    Array.isArray(o[k]) && o[k].length > 0 && o[k].every((x) => typeof x === 'string')
      ? (o[k] as string[])
      : fail(`"${k}" must be a non-empty array of strings`);
  if (str('id') !== id) fail(`"id" must equal the folder name "${id}"`);
  const maxLimits: Partial<Limits> = {};
  const rawMax = (o.maxLimits ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(rawMax)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(k)) fail(`unknown limit "maxLimits.${k}"`);
    if (typeof v !== 'number' || !(v > 0)) fail(`"maxLimits.${k}" must be a positive number`);
    maxLimits[k as keyof Limits] = v as number;
  }
  return {
    id,
    name: str('name'),
    packages: strs('packages'),
    mainFile: str('mainFile'),
    run: strs('run'),
    versionCommand: strs('versionCommand'),
    smoke: str('smoke'),
    maxLimits,
    hash,
    image: `crucible/${id}:${hash.slice(0, 12)}`,
    dir,
  };
}
