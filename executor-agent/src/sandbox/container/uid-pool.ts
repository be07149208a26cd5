import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Container uids handed out one per concurrently running sandbox. With userns-remap every
 * container uid maps to its own host uid (base + uid), and the kernel keeps several budgets per
 * host uid (pipe buffer pages, epoll watches, SCM_RIGHTS fds in flight, keyring quotas): with one
 * uid for all, one program could spend them for every other sandbox. A distinct uid makes each
 * sandbox's budget its own.
 *
 * First uid and size: well inside the 65,536 ids every remap range holds, clear of 0 (root) and of
 * 65534 (nobody, the image's own user). The size also bounds how many sandboxes one host runs at
 * once, which is what bounds the share of the host-wide counters rlimits cannot split (see
 * container-spec.ts and SECURITY.md).
 */
export const SANDBOX_UID_BASE = 20_000;
export const SANDBOX_UID_COUNT = 256;

/** One uid held by this process until released. */
export interface SandboxUid extends AsyncDisposable {
  readonly uid: number;
}

/** Who holds a lease: the pid and its start time (a recycled pid has another start time). */
interface Holder {
  pid: number;
  start: string;
}

/**
 * A pool of container uids shared by every agent process on the host, kept as one lease file per
 * uid in `dir` (agent-only). A lease is taken by creating its file with O_EXCL, so two agents never
 * hold one uid; it is released by deleting it. A lease whose holder has died (pid gone or recycled)
 * is taken over once `staleMs` has passed since it was taken — by then every container the dead
 * agent made with it is past its deadline and reaped. Take-over renames the file away first, so of
 * several agents racing for one stale lease only the one whose rename succeeded reclaims it.
 */
export class UidPool {
  private next: number;
  /** This process as a lease holder: read from /proc once, not at every acquire. */
  private self: Promise<Holder> | undefined;

  constructor(
    private readonly dir: string,
    private readonly staleMs: number,
    private readonly base = SANDBOX_UID_BASE,
    private readonly count = SANDBOX_UID_COUNT,
  ) {
    // Agents start at different points, so they rarely contend for the same file.
    this.next = Math.floor(Math.random() * count);
  }

  /** Takes a free uid; throws when every uid is held (the host runs `count` sandboxes already). */
  async acquire(now: number = Date.now()): Promise<SandboxUid> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const self = await (this.self ??= holderOf(process.pid));
    // Read once: a concurrent acquire moves `next` while this one awaits.
    const start = this.next;
    for (let i = 0; i < this.count; i++) {
      const uid = this.base + ((start + i) % this.count);
      const path = join(this.dir, String(uid));
      if ((await tryCreate(path, self)) || ((await this.reclaim(path, now)) && (await tryCreate(path, self)))) {
        this.next = (start + i + 1) % this.count;
        let released = false;
        return {
          uid,
          [Symbol.asyncDispose]: async () => {
            if (released) return;
            released = true;
            await removeIfHeldBy(path, self);
          },
        };
      }
    }
    throw new Error(`all ${this.count} sandbox uids (${this.base}–${this.base + this.count - 1}) are in use on this host (leases in ${this.dir})`);
  }

  /** Removes a stale lease; true when the uid may now be taken. */
  private async reclaim(path: string, now: number): Promise<boolean> {
    const [text, info] = await Promise.all([readFile(path, 'utf8').catch(() => undefined), stat(path).catch(() => undefined)]);
    if (text === undefined || info === undefined) return true;
    if (now - info.mtimeMs < this.staleMs) return false;
    const holder = parseHolder(text);
    if (holder && (await isAlive(holder))) return false;
    const aside = `${path}.reclaim-${process.pid}-${Math.random().toString(36).slice(2)}`;
    if (!(await rename(path, aside).then(() => true, () => false))) return false;
    // What was moved must be the stale lease judged above; if another agent reclaimed it and took
    // the uid in between, its fresh lease is put back where it was.
    const moved = await readFile(aside, 'utf8').catch(() => '');
    if (moved !== text) {
      await link(aside, path).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
      return false;
    }
    await unlink(aside).catch(() => undefined);
    return true;
  }

  /** The uids currently leased (held or stale), for tests and diagnostics. */
  async leased(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }
}

async function tryCreate(path: string, self: Holder): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(self));
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function removeIfHeldBy(path: string, self: Holder): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text !== undefined && text === JSON.stringify(self)) await unlink(path).catch(() => undefined);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.start === 'string' ? { pid: h.pid, start: h.start } : undefined;
  } catch {
    return undefined;
  }
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

async function holderOf(pid: number): Promise<Holder> {
  return { pid, start: (await startTime(pid)) ?? '' };
}

async function isAlive(holder: Holder): Promise<boolean> {
  const start = await startTime(holder.pid);
  return start !== undefined && start === holder.start;
}
