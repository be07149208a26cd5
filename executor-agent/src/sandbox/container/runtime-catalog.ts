import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMIT_KEYS, type Limits } from '@crucible/storage/domain';
import type { ContainerRuntime } from './container-spec.js';

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
  /** The command that runs the entry file, which is appended (unless compiled), then the request's args. */
  run: string[];
  /**
   * For compiled languages: a command run first, in its own container with its own limits, that
   * reads CODE_DIR and writes BUILD_DIR; `run` then executes what it built.
   */
  compile?: { command: string[]; limits: Partial<Limits> } | undefined;
  /** The engine runtime this language always runs under (e.g. `runsc`), whatever the agent's default. */
  containerRuntime?: ContainerRuntime | undefined;
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
  const limits = (raw: unknown, field: string): Partial<Limits> => {
    const out: Partial<Limits> = {};
    for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(k)) fail(`unknown limit "${field}.${k}"`);
      if (typeof v !== 'number' || !(v > 0)) fail(`"${field}.${k}" must be a positive number`);
      out[k as keyof Limits] = v as number;
    }
    return out;
  };
  const maxLimits = limits(o.maxLimits, 'maxLimits');
  let compile: RuntimeDefinition['compile'];
  if (o.compile !== undefined) {
    const c = o.compile as Record<string, unknown>;
    const command = c?.command;
    if (!Array.isArray(command) || command.length === 0 || !command.every((x) => typeof x === 'string')) fail('"compile.command" must be a non-empty array of strings');
    compile = { command: command as string[], limits: limits(c.limits, 'compile.limits') };
  }
  const containerRuntime = o.containerRuntime;
  if (containerRuntime !== undefined && containerRuntime !== 'runc' && containerRuntime !== 'runsc') fail('"containerRuntime" must be "runc" or "runsc"');
  return {
    id,
    containerRuntime: containerRuntime as ContainerRuntime | undefined,
    name: str('name'),
    packages: strs('packages'),
    mainFile: str('mainFile'),
    run: strs('run'),
    compile,
    versionCommand: strs('versionCommand'),
    smoke: str('smoke'),
    maxLimits,
    hash,
    image: `crucible/${id}:${hash.slice(0, 12)}`,
    dir,
  };
}

/**
 * Why the image of `definition` failed to build, as build-images.sh recorded it (in the same
 * temporary directory on the same host), or undefined when no failure is on record.
 */
export async function buildFailure(definition: RuntimeDefinition, dir: string = join(tmpdir(), 'crucible-image-builds')): Promise<string | undefined> {
  const text = await readFile(join(dir, `${definition.id}-${definition.hash.slice(0, 12)}.failed`), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : text.trim().slice(0, 500) || 'no output';
}
