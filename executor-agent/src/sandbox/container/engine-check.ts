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
  if (rootless && info.CgroupVersion !== '2') problems.push('a rootless engine on cgroup v1 ignores resource limits');
  if (!rootless && !has('userns')) problems.push('container root is host root (enable userns-remap or use a rootless engine)');
  if (runtime === 'runc' && !has('seccomp')) problems.push('seccomp is not enabled in the engine');
  if (!info.Runtimes || !(runtime in info.Runtimes)) problems.push(`the container runtime ${runtime} is not registered with the engine`);
  return problems;
}
