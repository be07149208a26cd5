import { readFile } from 'node:fs/promises';
import { kernelLogsForkRejected } from './kernel-log.js';

/**
 * How often the container's pids cgroup is read while it runs. Short because under gVisor a fork
 * bomb exhausts the sentry's host threads and the whole sandbox dies: the engine then deletes the
 * cgroup about 40 ms after the counter moved (measured), and a slower poll misses the hit. One
 * read of a small cgroup file costs microseconds.
 */
const POLL_MS = 10;

/**
 * Whether a container's program ran into its pids limit (a fork refused with EAGAIN), read from
 * the kernel's `pids.events` counter of the container's cgroup.
 *
 * Why polled: the engine deletes the cgroup as soon as the container exits, so the counter cannot
 * be read afterwards, and Docker reports nothing about it. A program that hits the limit and exits
 * within one poll interval can be missed by the poll; for a run that did not succeed, the kernel
 * log's record of the refused fork covers that (see kernel-log.ts). Still best effort, for the
 * result's `pidsLimitHit` flag and the `pids` kind of crucible_sandbox_limit_kills_total, never for
 * enforcement (the kernel enforces the limit itself).
 *
 * The cgroup is found on the host's /sys/fs/cgroup, so this works where the agent runs beside the
 * engine (local driver, Nomad raw_exec); elsewhere it never finds the file and reports false.
 */
export class PidsWatch {
  private hits = 0;
  private timer: NodeJS.Timeout | undefined;
  private path: string | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly containerId: string,
    private readonly cgroupRoot = '/sys/fs/cgroup',
    private readonly kernelLog: (id: string) => Promise<boolean> = kernelLogsForkRejected,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  /**
   * Stops polling (after one last read) and says whether the limit was hit. With `askKernelLog`
   * (for a run that did not succeed) a miss is checked against the kernel log, which keeps the
   * kernel's own record of a refused fork after the cgroup is gone.
   */
  async stop(opts: { askKernelLog?: boolean } = {}): Promise<boolean> {
    clearInterval(this.timer);
    await this.reading;
    await this.poll();
    if (this.hits === 0 && opts.askKernelLog && (await this.kernelLog(this.containerId))) this.hits = 1;
    return this.hits > 0;
  }

  private poll(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    for (const path of this.path ? [this.path] : pidsEventsPaths(this.cgroupRoot, this.containerId)) {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      this.path = path;
      this.hits = Math.max(this.hits, parsePidsEvents(text));
      return;
    }
  }
}

/** Where the engine puts a container's pids cgroup: cgroup v1 (cgroupfs), v2 cgroupfs, v2 systemd. */
export function pidsEventsPaths(root: string, id: string): string[] {
  return [`${root}/pids/docker/${id}/pids.events`, `${root}/docker/${id}/pids.events`, `${root}/system.slice/docker-${id}.scope/pids.events`];
}

/** `max N` in pids.events: how many times a fork was refused at the limit. */
export function parsePidsEvents(text: string): number {
  const m = /^max\s+(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
