import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceFile } from '@crucible/storage/domain';
import { InvalidProgramError } from '../sandbox.js';

/**
 * Rejects any name that is not a plain file name: separators, `.`/`..`, NUL, or too long. Each
 * file is written straight into the code directory, so such a name could escape it or clobber it.
 */
export function checkFileName(name: string): void {
  const ok =
    name.length > 0 &&
    Buffer.byteLength(name) <= 255 &&
    name !== '.' &&
    !name.includes('..') &&
    !/[/\\\0]/.test(name);
  if (!ok) throw new InvalidProgramError(`invalid file name ${JSON.stringify(name)}: use a plain file name`);
}

/** Decodes and checks every file; throws InvalidProgramError on a bad name or a duplicate. */
export function decodeFiles(files: readonly SourceFile[]): { name: string; data: Buffer }[] {
  if (files.length === 0) throw new InvalidProgramError('no files submitted');
  const seen = new Set<string>();
  return files.map((f) => {
    checkFileName(f.name);
    if (seen.has(f.name)) throw new InvalidProgramError(`duplicate file name ${JSON.stringify(f.name)}`);
    seen.add(f.name);
    if (f.encoding !== 'utf8' && f.encoding !== 'base64') {
      throw new InvalidProgramError(`file ${JSON.stringify(f.name)}: unknown encoding ${JSON.stringify(f.encoding)}`);
    }
    return { name: f.name, data: Buffer.from(f.content, f.encoding) };
  });
}

const PREFIX = 'crucible-code-';
const BUILD_PREFIX = 'crucible-build-out-';

/** A per-evaluation host directory holding the submitted files, bind-mounted read-only. */
export interface CodeDir extends AsyncDisposable {
  readonly path: string;
}

/**
 * Writes the files into a fresh directory under `parent`. Files are 0444 and the directory 0555:
 * with userns-remap the program's uid maps to an unprivileged host uid that reads them as "other",
 * and nothing can be changed from inside even if the mount were writable.
 */
export async function createCodeDir(files: readonly SourceFile[], parent: string = tmpdir()): Promise<CodeDir> {
  const decoded = decodeFiles(files);
  const path = await mkdtemp(join(parent, PREFIX));
  const dispose = () => removeCodeDir(path);
  try {
    // 'wx' refuses to follow or replace anything already there.
    await Promise.all(decoded.map((f) => writeFile(join(path, f.name), f.data, { flag: 'wx', mode: 0o444 })));
    // Modes given to writeFile/mkdtemp are masked by the umask; set them exactly.
    await Promise.all(decoded.map((f) => chmod(join(path, f.name), 0o444)));
    await chmod(path, 0o555);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { path, [Symbol.asyncDispose]: dispose };
}

/** A per-evaluation host directory a compile step writes its output into. */
export type BuildDir = CodeDir;

/**
 * An empty directory for a compile step's output. It is 0777 because the compiler runs as the
 * container's uid, which userns-remap maps to an unprivileged host uid the agent does not know;
 * the run step then mounts it read-only. Its parent is 0711 and its name random, so no other
 * host user can find it to plant a file.
 */
export async function createBuildDir(parent: string = tmpdir()): Promise<BuildDir> {
  const path = await mkdtemp(join(parent, BUILD_PREFIX));
  await chmod(path, 0o777);
  return { path, [Symbol.asyncDispose]: () => removeCodeDir(path) };
}

async function removeCodeDir(path: string): Promise<void> {
  // The directory is not writable by its owner; a non-root agent needs it writable to empty it.
  await chmod(path, 0o700).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

/**
 * Removes code directories under `parent` older than `olderThanMs`: those of an agent that died
 * mid-run. No live run keeps its directory past its deadline, so the age alone proves it orphaned.
 */
export async function reapCodeDirs(olderThanMs: number, parent: string = tmpdir(), now: number = Date.now()): Promise<string[]> {
  const names = (await readdir(parent)).filter((n) => n.startsWith(PREFIX) || n.startsWith(BUILD_PREFIX));
  const stale: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const path = join(parent, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory() && now - info.mtimeMs > olderThanMs) {
        await removeCodeDir(path);
        stale.push(path);
      }
    }),
  );
  return stale;
}
