import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Limits, RunResult } from '@crucible/storage/domain';
import { createCodeDir } from './code-dir.js';
import { runContainer } from './container-run.js';
import { containerSpec, RUNSC_PIDS_OVERHEAD, SANDBOX_RLIMITS, sandboxUlimits, type ContainerRuntime } from './container-spec.js';
import type { UidPool } from './uid-pool.js';
import { messageOf } from './docker-client.js';

/**
 * The enforcement self-test: before an agent runs untrusted code, probe containers — made exactly
 * as evaluations are — try to exceed memory, pids, the network and the read-only root, and check
 * the kernel budgets (pooled uid, rlimits, pinned OOM score). A limit
 * the engine accepts but does not enforce (the rootless-on-cgroup-v1 trap, a kernel without
 * swap accounting, a runtime that ignores a flag) shows up as a probe that got away with it, and
 * every language of that engine runtime is then refused with the probe's finding as the reason.
 *
 * Cost: four small containers run at once (~1 s on runc, ~2 s on runsc). A passing verdict is
 * cached on disk per engine ID + runtime + probe image + seccomp version + this file's probe
 * version for VERDICT_TTL_MS, so the many agents a test run or a scale-up starts pay it once.
 * A failing verdict is never cached: the agent re-checks unavailable languages periodically.
 */

/** Bump when the probes change, so no verdict of older probes is reused. */
const PROBE_VERSION = 2;
const VERDICT_TTL_MS = 10 * 60_000;

/** Memory probe: 32 MiB limit, tries to hold 256 MiB. Must end as memory_limit. */
const MEMORY_PROBE = `
chunks = []
for _ in range(256):
    chunks.append(bytearray(1 << 20))
    chunks[-1][::4096] = b"x" * len(chunks[-1][::4096])
print("HELD", len(chunks))
`;

/** Pids probe: forks sleeping children until refused; prints how many it got. */
const PIDS_PROBE = `
import os, time
n = 0
try:
    for _ in range(256):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError:
    pass
print("FORKED", n, flush=True)
os._exit(0)
`;

/** Network and root filesystem, in one container: prints one JSON line of findings. */
const CONFINEMENT_PROBE = `
import json, os, socket
out = {}
out["ifaces"] = sorted(os.listdir("/sys/class/net"))
routes = open("/proc/net/route").read().strip().splitlines()[1:]
out["routes"] = len(routes)
out["connect"] = "failed"
if not routes:  # with no route no packet can leave, so trying is safe
    try:
        socket.create_connection(("192.0.2.1", 9), timeout=1).close()
        out["connect"] = "connected"
    except OSError:
        pass
try:
    open("/crucible-selftest", "w").write("x")
    out["rootfs"] = "writable"
except OSError:
    out["rootfs"] = "read-only"
print(json.dumps(out), flush=True)
os._exit(0)
`;

/**
 * Kernel budgets, in one container: the uid it runs as, the rlimits it got, and (under runc)
 * whether its OOM score stays 1000. It lowers the score to 0 and watches: refused (a floor set
 * by an agent with CAP_SYS_RESOURCE) or put back by the agent's guard within 2 s is kept; still
 * lowered after 2 s means nothing guards it.
 */
const KERNEL_PROBE = `
import json, os, resource, time
out = {"uid": os.getuid(), "gid": os.getgid()}
for name in ("SIGPENDING", "MSGQUEUE", "MEMLOCK", "NPROC"):
    out[name.lower()] = resource.getrlimit(getattr(resource, "RLIMIT_" + name))[1]
time.sleep(0.2)  # past the pin at start
try:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("0")
    out["oom"] = "lowered"
    until = time.monotonic() + 2
    while time.monotonic() < until:
        if open("/proc/self/oom_score_adj").read().strip() == "1000":
            out["oom"] = "restored"
            break
        time.sleep(0.01)
except OSError:
    out["oom"] = "pinned"
out["oom_score_adj"] = open("/proc/self/oom_score_adj").read().strip()
print(json.dumps(out), flush=True)
os._exit(0)
`;

const PROBE_PIDS = 8;

export interface SelfTestInput {
  docker: Docker;
  engineId: string;
  runtime: ContainerRuntime;
  /** An image with python3: the self-test runs its probes in it. */
  image: string;
  seccomp: { json: string; version: string };
  appArmorProfile?: string | undefined;
  agentId: string;
  /** The agent's private code directory. */
  codeDirParent: string;
  /** The host's uid pool: each probe runs as a pooled uid, as evaluations do. */
  uids: UidPool;
  cacheDir?: string | undefined;
  now?: number;
  /**
   * Test seam: alters each probe's create options before it runs, e.g. dropping the memory limit
   * to stand for an engine that silently ignores it. Never set in production.
   */
  tamper?: ((spec: Docker.ContainerCreateOptions) => Docker.ContainerCreateOptions) | undefined;
}

export interface SelfTestVerdict {
  ok: boolean;
  /** Empty when ok; else each limit that was not enforced, precisely. */
  problems: string[];
  checkedAt: string;
  cached: boolean;
}

/** Runs the probes (or reuses a fresh passing verdict) and says whether every limit held. */
export async function enforcementSelfTest(input: SelfTestInput): Promise<SelfTestVerdict> {
  const now = input.now ?? Date.now();
  const key = createHash('sha256')
    .update(JSON.stringify([PROBE_VERSION, input.engineId, input.runtime, input.image, input.seccomp.version, input.appArmorProfile ?? '']))
    .digest('hex')
    .slice(0, 24);
  const cacheDir = input.cacheDir ?? join(tmpdir(), 'crucible-selftest');
  const cacheFile = join(cacheDir, `${key}.json`);
  // A tampered probe must neither reuse nor leave a verdict.
  const cached = input.tamper ? undefined : await readFile(cacheFile, 'utf8')
    .then((t) => JSON.parse(t) as { ok: boolean; at: number })
    .catch(() => undefined);
  if (cached?.ok && now - cached.at < VERDICT_TTL_MS && cached.at <= now) {
    return { ok: true, problems: [], checkedAt: new Date(cached.at).toISOString(), cached: true };
  }

  const problems = await runProbes(input).catch((err: unknown) => [`the probes could not run: ${messageOf(err)}`]);
  const verdict: SelfTestVerdict = { ok: problems.length === 0, problems, checkedAt: new Date(now).toISOString(), cached: false };
  if (verdict.ok && !input.tamper) {
    // Write then rename: a concurrent reader never sees half a file.
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ ok: true, at: now }));
    await rename(tmp, cacheFile);
  }
  return verdict;
}

async function runProbes(input: SelfTestInput): Promise<string[]> {
  const probe = async (name: string, code: string, limits: Limits): Promise<RunResult & { uid: number }> => {
    await using dir = await createCodeDir([{ name: 'probe.py', content: code, encoding: 'utf8' }], input.codeDirParent);
    await using lease = await input.uids.acquire();
    const spec = containerSpec({
      uid: lease.uid,
      evaluationId: `selftest-${name}-${process.pid}`,
      agentId: input.agentId,
      image: input.image,
      runtime: input.runtime,
      run: ['python3', '-B', '-E', '-s', '-u'],
      entryFile: 'probe.py',
      args: [],
      limits,
      seccompProfile: input.seccomp.json,
      appArmorProfile: input.appArmorProfile,
      hostCodeDir: dir.path,
      now: Date.now(),
    });
    const request = { evaluationId: spec.Labels!['crucible.evaluation']!, language: 'selftest', files: [], stdin: '', args: [], limits };
    const result = await runContainer(input.docker, input.tamper ? input.tamper(spec) : spec, request, new AbortController().signal);
    return { ...result, uid: lease.uid };
  };
  const base: Limits = { timeoutMs: 15_000, memoryMb: 64, cpus: 1, pids: PROBE_PIDS, outputBytes: 64 * 1024 };
  const [memory, pids, confinement, kernel] = await Promise.all([
    probe('memory', MEMORY_PROBE, { ...base, memoryMb: 32, pids: 16 }),
    probe('pids', PIDS_PROBE, base),
    probe('confinement', CONFINEMENT_PROBE, { ...base, pids: 16 }),
    probe('kernel', KERNEL_PROBE, { ...base, pids: 16 }),
  ]);
  return [...judgeMemory(memory), ...judgePids(pids), ...judgeConfinement(confinement), ...judgeKernel(kernel, { uid: kernel.uid, runtime: input.runtime, pids: 16 })];
}

/**
 * What the memory probe's result says about memory enforcement. Under gVisor the OOM killer
 * takes the sandbox kernel itself, which the engine does not always flag as OOMKilled: a SIGKILL
 * we did not send (status 137, reported as an `error` since a program could choose it), before
 * the probe could report holding the memory, is the same proof here: the probe is our own code
 * and never exits with 137 by itself.
 */
export function judgeMemory(r: Pick<RunResult, 'outcome' | 'exitCode' | 'stdout' | 'stderr'>): string[] {
  if (r.stdout.includes('HELD')) return ['memory limit not enforced: a probe held 256 MiB under a 32 MiB limit'];
  if (r.outcome === 'memory_limit' || (r.outcome === 'error' && r.exitCode === 137)) return [];
  return [`memory limit unverified: the probe ended ${r.outcome}, not memory_limit (${(r.stderr || r.stdout).slice(-200).trim()})`];
}

/**
 * What the pids probe says. Under runc forks stop below PROBE_PIDS (the init and the probe count
 * too). Under gVisor forks are tasks of the sentry and the limit bounds the sentry's host
 * threads: the sandbox dies before reporting, which contains the bomb as well. Only a report of
 * PROBE_PIDS or more forks means the limit was not enforced.
 */
export function judgePids(r: Pick<RunResult, 'outcome' | 'stdout' | 'stderr'>): string[] {
  const m = /FORKED (\d+)/.exec(r.stdout);
  if (!m) return r.outcome === 'success' ? ['pids limit unverified: the probe printed nothing'] : [];
  const forked = Number(m[1]);
  return forked < PROBE_PIDS ? [] : [`pids limit not enforced: forked ${forked} children under a limit of ${PROBE_PIDS}`];
}

/** What the confinement probe's findings say about network and root-fs enforcement. */
export function judgeConfinement(r: Pick<RunResult, 'outcome' | 'stdout' | 'stderr'>): string[] {
  let f: { ifaces?: string[]; routes?: number; connect?: string; rootfs?: string };
  try {
    f = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as typeof f;
  } catch {
    return [`confinement probe gave no findings (outcome ${r.outcome}): ${(r.stderr || r.stdout).slice(-200).trim()}`];
  }
  const problems: string[] = [];
  if (JSON.stringify(f.ifaces) !== '["lo"]') problems.push(`network not isolated: interfaces ${JSON.stringify(f.ifaces)}`);
  if (f.routes !== 0) problems.push(`network not isolated: ${f.routes} routes`);
  if (f.connect !== 'failed') problems.push('network not isolated: an outside address was reachable');
  if (f.rootfs !== 'read-only') problems.push('root filesystem is writable');
  return problems;
}

/**
 * What the kernel probe says: the program ran as the pooled uid it was given (so no two sandboxes
 * share per-user budgets), with the rlimits that bound its share of host root's counters, and —
 * under runc, where its processes are host processes — could not lower its OOM score. Under
 * gVisor the score inside is the sentry's emulation (the host score of the sentry is the
 * engine's), so only uid and rlimits are judged there.
 */
export function judgeKernel(
  r: Pick<RunResult, 'outcome' | 'stdout' | 'stderr'>,
  expected: { uid: number; runtime: ContainerRuntime; pids: number },
): string[] {
  let f: Record<string, unknown>;
  try {
    f = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    return [`kernel probe gave no findings (outcome ${r.outcome}): ${(r.stderr || r.stdout).slice(-200).trim()}`];
  }
  const problems: string[] = [];
  if (f.uid !== expected.uid || f.gid !== expected.uid) problems.push(`the program ran as uid ${String(f.uid)}:${String(f.gid)}, not its pooled uid ${expected.uid}`);
  const pids = expected.runtime === 'runsc' ? expected.pids + RUNSC_PIDS_OVERHEAD : expected.pids;
  const want: Record<string, number> = { ...SANDBOX_RLIMITS, nproc: sandboxUlimits(pids).find((u) => u.Name === 'nproc')!.Hard };
  for (const [name, value] of Object.entries(want)) {
    if (f[name] !== value) problems.push(`rlimit ${name} not applied: ${String(f[name])} instead of ${value}`);
  }
  if (expected.runtime === 'runc' && f.oom !== 'pinned' && f.oom !== 'restored') {
    problems.push(`the program lowered its OOM score and it stayed lowered (now ${String(f.oom_score_adj)}): oom_score_adj is not guarded`);
  }
  return problems;
}
