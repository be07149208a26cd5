import { readFile, stat, writeFile } from 'node:fs/promises';

/** The sandbox's OOM score: the host's OOM killer takes a sandbox before anything else. */
export const SANDBOX_OOM_SCORE_ADJ = 1000;
/** How long the container's processes may take to freeze before pinning counts as failed. */
const FREEZE_TIMEOUT_MS = 2_000;
/** How often the guard re-checks every process's score while the container runs. */
const GUARD_MS = 50;

/**
 * Keeps a runc container's processes at OOM score 1000, whatever they write.
 *
 * Why: the engine sets `OomScoreAdj` 1000, but runc writes it from inside the container's user
 * namespace, and the kernel records a floor (`oom_score_adj_min`) only when the writer has
 * CAP_SYS_RESOURCE in the *initial* user namespace. Without a floor any process may lower its
 * score back to 0 (an unprivileged write may go down to the floor, default 0), tying with the
 * gateway and the agents for the host's OOM killer.
 *
 * How, in two parts:
 * - `pin`, right after start: freeze the container's cgroup (no process can fork or exit
 *   mid-way), write 1000 to every process in it, thaw. Where the agent holds CAP_SYS_RESOURCE
 *   (host root normally does) each write also sets the floor, children inherit it, and from
 *   then on no write below 1000 succeeds.
 * - the guard, while it runs: every GUARD_MS, any process whose score is below 1000 is put back.
 *   This is what holds where the agent lacks CAP_SYS_RESOURCE (as on this CI host, whose root
 *   has it removed from its bounding set): a program can lower its score, but for at most about
 *   GUARD_MS at a time.
 * Residual window: the milliseconds between start and the pin, and (without CAP_SYS_RESOURCE)
 * up to GUARD_MS after each lowering. Throws when the cgroup or a process cannot be written (an
 * agent without root, or not beside the engine): the run must then not go on.
 */
export class OomGuard {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private freezer: Freezer | undefined;
  /** How many times a process was found below the sandbox's score and put back. */
  restored = 0;

  constructor(
    private readonly containerId: string,
    private readonly cgroupRoot = '/sys/fs/cgroup',
  ) {}

  /** Freezes, pins every process, thaws; then starts guarding. */
  async pin(): Promise<void> {
    const cgroup = await findFreezer(this.cgroupRoot, this.containerId);
    if (!cgroup) {
      // The engine's cgroups are here but not this container's: it has already exited (a program
      // done in milliseconds), so there is nothing left to pin. No engine cgroups at all: the
      // agent is not beside the engine and cannot keep the score.
      if (await engineCgroupsVisible(this.cgroupRoot)) return;
      throw new Error(`no cgroup of the engine found under ${this.cgroupRoot}: the agent must run beside the engine`);
    }
    this.freezer = cgroup;
    try {
      // A cgroup slow to freeze (a process in uninterruptible I/O) is pinned unfrozen: the guard
      // then catches any child forked mid-way.
      await cgroup.freeze().catch(() => undefined);
      for (const pid of await procs(cgroup).catch(() => [] as string[])) await setScore(pid);
    } finally {
      // Gone meanwhile (the container exited): nothing to thaw.
      await cgroup.thaw().catch(() => undefined);
    }
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, GUARD_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  private async check(): Promise<void> {
    // The cgroup disappears when the container exits: nothing left to guard.
    const pids = await procs(this.freezer!).catch(() => [] as string[]);
    for (const pid of pids) {
      const score = await readFile(`/proc/${pid}/oom_score_adj`, 'utf8').catch(() => undefined);
      if (score === undefined || Number(score) >= SANDBOX_OOM_SCORE_ADJ) continue;
      await setScore(pid).catch(() => undefined);
      this.restored++;
    }
  }
}

async function procs(cgroup: Freezer): Promise<string[]> {
  return (await readFile(cgroup.procs, 'utf8')).split('\n').filter(Boolean);
}

async function setScore(pid: string): Promise<void> {
  await writeFile(`/proc/${pid}/oom_score_adj`, String(SANDBOX_OOM_SCORE_ADJ)).catch((err: unknown) => {
    // Exited in the meantime: nothing to pin.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  });
}

interface Freezer {
  procs: string;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
}

/** The container's freezer: cgroup v1 (cgroupfs driver), v2 cgroupfs, v2 systemd. */
async function findFreezer(root: string, id: string): Promise<Freezer | undefined> {
  const v1 = `${root}/freezer/docker/${id}`;
  if (await exists(`${v1}/freezer.state`)) {
    return {
      procs: `${v1}/cgroup.procs`,
      freeze: async () => {
        await writeFile(`${v1}/freezer.state`, 'FROZEN');
        await waitFor(async () => (await readFile(`${v1}/freezer.state`, 'utf8')).trim() === 'FROZEN');
      },
      thaw: () => writeFile(`${v1}/freezer.state`, 'THAWED'),
    };
  }
  for (const v2 of [`${root}/docker/${id}`, `${root}/system.slice/docker-${id}.scope`]) {
    if (!(await exists(`${v2}/cgroup.freeze`))) continue;
    return {
      procs: `${v2}/cgroup.procs`,
      freeze: async () => {
        await writeFile(`${v2}/cgroup.freeze`, '1');
        await waitFor(async () => /^frozen 1$/m.test(await readFile(`${v2}/cgroup.events`, 'utf8')));
      },
      thaw: () => writeFile(`${v2}/cgroup.freeze`, '0'),
    };
  }
  return undefined;
}

async function waitFor(done: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + FREEZE_TIMEOUT_MS;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`the container did not freeze within ${FREEZE_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Whether the engine's container cgroups live under `root` (cgroup v1 freezer, v2 cgroupfs, v2 systemd). */
async function engineCgroupsVisible(root: string): Promise<boolean> {
  const dirs = [`${root}/freezer/docker`, `${root}/docker`, `${root}/system.slice`];
  const found = await Promise.all(dirs.map((d) => stat(d).then((s) => s.isDirectory(), () => false)));
  return found.some(Boolean);
}

function exists(path: string): Promise<boolean> {
  return readFile(path, 'utf8').then(
    () => true,
    () => false,
  );
}
