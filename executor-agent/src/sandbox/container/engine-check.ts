import type { ContainerRuntime } from './container-spec.js';

/** The fields of `GET /info` that decide whether the engine can confine untrusted code. */
export interface EngineInfo {
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  PidsLimit?: boolean;
  CpuCfsQuota?: boolean;
  CgroupVersion?: string;
  SecurityOptions?: string[];
  Runtimes?: Record<string, unknown>;
  /** Identifies the engine: the self-test verdict is cached per engine. */
  ID?: string;
  /** `<root>/<uid>.<gid>` under userns-remap: names the engine's remapped root. */
  DockerRootDir?: string;
}

/** How the engine isolates users, as `/readyz` reports it. */
export interface EngineMode {
  /** `rootful-userns`: root daemon, container root remapped to an unprivileged host uid; `rootless`: the daemon itself is unprivileged. */
  mode: 'rootful-userns' | 'rootless' | 'rootful';
  cgroup: 'v1' | 'v2';
  /** How memory limits are enforced: by cgroups, or not at all (the sandbox then refuses to run). */
  memory: 'cgroup' | 'not enforced';
}

export function engineMode(info: EngineInfo): EngineMode {
  const security = info.SecurityOptions ?? [];
  const has = (name: string) => security.some((s) => s === `name=${name}` || s.startsWith(`name=${name},`));
  const mode = has('rootless') ? 'rootless' : has('userns') ? 'rootful-userns' : 'rootful';
  const cgroup = info.CgroupVersion === '2' ? 'v2' : 'v1';
  // The trap: a rootless engine on cgroup v1 accepts --memory and ignores it.
  const memory = info.MemoryLimit && !(mode === 'rootless' && cgroup === 'v1') ? 'cgroup' : 'not enforced';
  return { mode, cgroup, memory };
}

/**
 * Why this engine must not run untrusted code with `runtime`, or [] when it may. The sandbox
 * refuses loudly rather than run with a limit the engine would silently ignore.
 */
export function engineProblems(info: EngineInfo, runtime: ContainerRuntime): string[] {
  const problems: string[] = [];
  const security = info.SecurityOptions ?? [];
  const has = (name: string) => security.some((s) => s === `name=${name}` || s.startsWith(`name=${name},`));
  const rootless = has('rootless');
  if (!info.MemoryLimit) problems.push('the engine does not enforce memory limits');
  // Without swap accounting, Memory = MemorySwap cannot forbid swap, so memory is not bounded.
  if (!info.SwapLimit) problems.push('the engine does not enforce swap limits');
  if (!info.PidsLimit) problems.push('the engine does not enforce pids limits');
  if (!info.CpuCfsQuota) problems.push('the engine does not enforce CPU quotas');
  // A rootless engine on cgroup v1 cannot delegate cgroups: it accepts limits and ignores them.
  // rlimits could bound memory per process but not per container (a fork multiplies them), so
  // the sandbox refuses rather than pretend.
  if (rootless && info.CgroupVersion !== '2') problems.push('a rootless engine on cgroup v1 ignores resource limits (memory would be bounded per process only): refusing');
  if (!rootless && !has('userns')) problems.push('container root is host root (enable userns-remap or use a rootless engine)');
  if (runtime === 'runc' && !has('seccomp')) problems.push('seccomp is not enabled in the engine');
  if (!info.Runtimes || !(runtime in info.Runtimes)) problems.push(`the container runtime ${runtime} is not registered with the engine`);
  return problems;
}
