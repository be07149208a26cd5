import { readFile } from 'node:fs/promises';

/** How often the container's memory cgroup is read while its usage is far from the limit. */
const SLOW_POLL_MS = 200;
/** ...and once it is past half of it, where an OOM kill may come within milliseconds. */
const FAST_POLL_MS = 20;

/** What a container's memory cgroup said about its limit while it ran. */
export interface MemoryFacts {
  usage: number;
  limit: number;
  /** The kernel's own counters: times usage hit the limit (failcnt / `max`), OOM kills. */
  failures: number;
  oomKills: number;
  /** The highest usage the cgroup recorded (cgroup v1 only; 0 when unknown). */
  peak: number;
}

/** One cgroup layout: its directory for a container and how to read the facts there. */
interface Layout {
  dir: (root: string, id: string) => string;
  read: (dir: string) => Promise<MemoryFacts | undefined>;
}

const text = (path: string) => readFile(path, 'utf8').catch(() => undefined);
const num = (s: string | undefined) => (s === undefined || s.trim() === 'max' ? Number.POSITIVE_INFINITY : Number(s.trim()));

/** `key N` lines (memory.oom_control, memory.events) as numbers. */
export function parseCounters(s: string): Record<string, number> {
  return Object.fromEntries([...s.matchAll(/^(\w+)\s+(\d+)\s*$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

const v1: Layout = {
  dir: (root, id) => `${root}/memory/docker/${id}`,
  async read(dir) {
    const [usage, limit, failcnt, peak, oom] = await Promise.all(
      ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.failcnt', 'memory.max_usage_in_bytes', 'memory.oom_control'].map((f) => text(`${dir}/${f}`)),
    );
    if (usage === undefined || limit === undefined || oom === undefined) return undefined;
    return { usage: num(usage), limit: num(limit), failures: num(failcnt ?? '0'), peak: num(peak ?? '0'), oomKills: parseCounters(oom).oom_kill ?? 0 };
  },
};

const v2 = (dir: Layout['dir']): Layout => ({
  dir,
  async read(d) {
    const [usage, limit, events] = await Promise.all(['memory.current', 'memory.max', 'memory.events'].map((f) => text(`${d}/${f}`)));
    if (usage === undefined || limit === undefined || events === undefined) return undefined;
    const counters = parseCounters(events);
    return { usage: num(usage), limit: num(limit), failures: counters.max ?? 0, oomKills: counters.oom_kill ?? 0, peak: 0 };
  },
});

/** Where the engine puts a container's memory cgroup: cgroup v1 (cgroupfs), v2 cgroupfs, v2 systemd. */
const LAYOUTS: readonly Layout[] = [v1, v2((root, id) => `${root}/docker/${id}`), v2((root, id) => `${root}/system.slice/docker-${id}.scope`)];

/**
 * Whether a container reached its memory limit, from the kernel's counters of its memory cgroup
 * (issue 12: a verdict needs evidence the program cannot produce, and a status of 137 is not).
 *
 * Why it matters: under gVisor the OOM kill can happen inside the sandbox's kernel, and the
 * engine then does not always set State.OOMKilled; the host cgroup still saw usage reach the
 * limit. Polled, because the engine deletes the cgroup when the container exits; faster once
 * usage is past half the limit. Best effort like PidsWatch (a hit between two reads just before
 * the exit can be missed, leaving the run an honest `error`), and it only finds the cgroup where
 * the agent runs beside the engine.
 */
export class MemoryWatch {
  private reached = false;
  private timer: NodeJS.Timeout | undefined;
  private layout: Layout | undefined;
  private reading: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly containerId: string,
    private readonly cgroupRoot = '/sys/fs/cgroup',
  ) {}

  start(): void {
    void this.tick();
  }

  /** Stops polling (after one last read) and says whether the limit was reached. */
  async stop(): Promise<boolean> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.reading;
    await this.poll();
    return this.reached;
  }

  private async tick(): Promise<void> {
    const near = await this.poll();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), near ? FAST_POLL_MS : SLOW_POLL_MS);
    this.timer.unref();
  }

  /** Reads once; resolves whether usage is near the limit. */
  private async poll(): Promise<boolean> {
    let near = false;
    this.reading ??= this.read()
      .then((n) => void (near = n))
      .finally(() => (this.reading = undefined));
    await this.reading;
    return near;
  }

  private async read(): Promise<boolean> {
    for (const layout of this.layout ? [this.layout] : LAYOUTS) {
      const facts = await layout.read(layout.dir(this.cgroupRoot, this.containerId));
      if (!facts) continue;
      this.layout = layout;
      if (limitReached(facts)) this.reached = true;
      return facts.usage * 2 >= facts.limit;
    }
    return false;
  }
}

/** The kernel's word that the cgroup's limit was reached: an OOM kill, a refused charge, or a peak at the limit. */
export function limitReached(f: MemoryFacts): boolean {
  if (!Number.isFinite(f.limit)) return f.oomKills > 0;
  return f.oomKills > 0 || f.failures > 0 || f.peak >= f.limit;
}
