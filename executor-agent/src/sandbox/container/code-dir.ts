import { constants } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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
const SEALED_PREFIX = 'crucible-build-run-';

/** A per-evaluation host directory holding the submitted files, bind-mounted read-only. */
export interface CodeDir extends AsyncDisposable {
  readonly path: string;
}

/**
 * Writes the files into a fresh directory under `parent`, which must be the agent's private code
 * directory (`securePrivateDir`): no other host user can traverse it, so nobody but the agent and
 * the engine can read a submission. Files are 0444 and the directory 0555, owned by the agent:
 * the program's pooled uid reads them as "other" and can change nothing even if the mount were
 * writable.
 */
export async function createCodeDir(files: readonly SourceFile[], parent: string): Promise<CodeDir> {
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
 * An empty directory for a compile step's output, under the private parent. It is 0777 because
 * the compiler runs as the sandbox's pooled uid, remapped to a host uid the agent does not
 * choose; no other host user can reach it (the parent is not traversable for them) and no other
 * sandbox sees it. What the compiler leaves there is never run from it: `sealBuild` copies it.
 */
export async function createBuildDir(parent: string): Promise<BuildDir> {
  const path = await mkdtemp(join(parent, BUILD_PREFIX));
  await chmod(path, 0o777);
  return { path, [Symbol.asyncDispose]: () => removeCodeDir(path) };
}

/** Bounds on what a compile step may leave for the run: more is a compile failure, not a copy. */
const SEAL_MAX_BYTES = 256 * 1024 * 1024;
const SEAL_MAX_ENTRIES = 4096;

/**
 * Makes a compile step's output immutable for the run: once the compile container is gone, its
 * regular files and directories are copied into a fresh directory the agent owns (files 0755 if
 * the compiler made them executable, else 0644; directories 0755), which the run mounts
 * read-only. The program's uid then cannot replace `/build/main` (it is not the owner), and
 * nothing the compile step left running or linked can change what runs. Symlinks, devices, fifos
 * and sockets are not copied: a compiler has no business leaving them, and a symlink could point
 * the run at a file of the compile step's choosing. Past the bounds it throws InvalidProgramError.
 */
export async function sealBuild(build: BuildDir, parent: string): Promise<BuildDir> {
  const sealed = await mkdtemp(join(parent, SEALED_PREFIX));
  const dispose = () => removeCodeDir(sealed);
  try {
    let bytes = 0;
    let entries = 0;
    const copy = async (from: string, to: string): Promise<void> => {
      for (const name of await readdir(from)) {
        if (++entries > SEAL_MAX_ENTRIES) throw new InvalidProgramError(`the build output has more than ${SEAL_MAX_ENTRIES} entries`);
        const src = join(from, name);
        const dst = join(to, name);
        const info = await lstat(src);
        if (info.isDirectory()) {
          await mkdir(dst, { mode: 0o755 });
          await chmod(dst, 0o755);
          await copy(src, dst);
        } else if (info.isFile()) {
          bytes += info.size;
          if (bytes > SEAL_MAX_BYTES) throw new InvalidProgramError(`the build output is larger than ${SEAL_MAX_BYTES / 1024 / 1024} MiB`);
          await copyFile(src, dst, constants.COPYFILE_EXCL);
          await chmod(dst, info.mode & 0o111 ? 0o755 : 0o644);
        }
      }
    };
    await copy(build.path, sealed);
    await chmod(sealed, 0o755);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { path: sealed, [Symbol.asyncDispose]: dispose };
}

async function removeCodeDir(path: string): Promise<void> {
  // The directory is not writable by its owner; a non-root agent needs it writable to empty it.
  await chmod(path, 0o700).catch(() => undefined);
  await rm(path, { recursive: true, force: true });
}

/**
 * Removes code, build and sealed-build directories under `parent` (the private code directory)
 * older than `olderThanMs`: those of an agent that died mid-run. No live run keeps its directory
 * past its deadline, so the age alone proves it orphaned.
 */
export async function reapCodeDirs(olderThanMs: number, parent: string, now: number = Date.now()): Promise<string[]> {
  const names = (await readdir(parent)).filter((n) => [PREFIX, BUILD_PREFIX, SEALED_PREFIX].some((p) => n.startsWith(p)));
  const stale: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const path = join(parent, name);
      const info = await lstat(path).catch(() => undefined);
      if (info?.isDirectory() && now - info.mtimeMs > olderThanMs) {
        await removeCodeDir(path);
        stale.push(path);
      }
    }),
  );
  return stale;
}
