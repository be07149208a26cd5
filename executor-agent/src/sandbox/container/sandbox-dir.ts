import { chmod, chown, lstat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The agent's own directory on the host: the per-evaluation code and build directories live in
 * `code/`, the uid pool's leases in `uids/`. Every agent on a host shares it by default (the uid
 * pool must be host-wide), so it sits at a fixed path; `CRUCIBLE_SANDBOX_DIR` moves it.
 */
export const DEFAULT_SANDBOX_DIR = join(tmpdir(), 'crucible-sandbox');

/**
 * Who may traverse the code directory's parent besides the agent. Under runc the engine opens
 * bind-mount sources as host root, so the agent alone would do; gVisor's gofer, though, opens them
 * as the engine's remapped root (host uid/gid 100000 with `userns-remap`), so that one group gets
 * search permission. No sandboxed program runs as it: each runs as its own pooled uid and gid.
 */
export interface Traverser {
  gid: number;
}

/**
 * The engine's remapped root from `DockerRootDir` (`<root>/<uid>.<gid>` under userns-remap);
 * undefined for an engine without it (rootless: the engine's root is the agent's own user).
 */
export function remappedRoot(dockerRootDir: string | undefined): Traverser | undefined {
  const m = /\/(\d+)\.(\d+)\/?$/.exec(dockerRootDir ?? '');
  return m ? { gid: Number(m[2]) } : undefined;
}

/**
 * Makes `dir` a directory only the agent (and `traverser`'s group, search only) can enter:
 * created if missing, refused if it is anything but a real directory the agent owns (another
 * local user could have planted it in /tmp to read or swap programs' files), then its mode set
 * exactly. Returns `dir`.
 */
export async function securePrivateDir(dir: string, traverser?: Traverser): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const me = process.geteuid?.() ?? info.uid;
  if (!info.isDirectory() || info.uid !== me) {
    throw new Error(`${dir} must be a directory owned by the agent (uid ${me}); it is ${info.isDirectory() ? `owned by uid ${info.uid}` : 'not a directory'}: refusing to put programs' files there`);
  }
  // An agent that may not give the directory to the remapped root's group (not root) keeps it
  // 0700: runc still mounts from it, runsc then cannot, and its self-test says so loudly.
  const shared = traverser !== undefined && (await chown(dir, me, traverser.gid).then(() => true, () => false));
  await chmod(dir, shared ? 0o710 : 0o700);
  return dir;
}

/** Where one sandbox keeps programs' files and the host's uid leases. */
export interface SandboxDirs {
  /** Parent of the per-evaluation code and build directories. */
  code: string;
  /** The uid pool's leases (agent-only). */
  uids: string;
}

/**
 * Secures the agent's directory and its `code/` and `uids/` (see securePrivateDir); `codeDir`
 * overrides where code goes (it is secured the same way).
 */
export async function prepareSandboxDirs(root: string, dockerRootDir: string | undefined, codeDir?: string): Promise<SandboxDirs> {
  const traverser = remappedRoot(dockerRootDir);
  await securePrivateDir(root, traverser);
  const [code, uids] = await Promise.all([securePrivateDir(codeDir ?? join(root, 'code'), traverser), securePrivateDir(join(root, 'uids'))]);
  return { code, uids };
}
