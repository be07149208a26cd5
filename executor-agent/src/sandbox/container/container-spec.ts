import type Docker from 'dockerode';
import type { ContainerRuntime, Limits } from '@crucible/storage/domain';
import { InvalidProgramError } from '../sandbox.js';
import { SANDBOX_OOM_SCORE_ADJ } from './oom-pin.js';

/** Labels on every container the sandbox creates; `reapOrphans` finds leftovers by them. */
export const LABELS = {
  managed: 'crucible.managed',
  evaluation: 'crucible.evaluation',
  agent: 'crucible.agent',
  /** Epoch ms after which no live run can still own the container. */
  deadline: 'crucible.deadline',
} as const;

export type { ContainerRuntime } from '@crucible/storage/domain';

/** Where the submitted files appear inside the container (read-only). */
export const CODE_DIR = '/code';
/** Where a compile step writes and a compiled program is run from. */
export const BUILD_DIR = '/build';
const MiB = 1024 * 1024;
const TMPFS_MB = 64;
/**
 * Under gVisor the container's pids cgroup holds the sandbox kernel's own host threads (the
 * sentry and gofer, 30–40 at rest), not the program's processes, which are tasks inside the
 * sentry; below ~48 the sandbox cannot even start. So runsc gets this much on top of the
 * request's pids. A fork bomb under runsc then exhausts the sentry's threads and the whole
 * sandbox dies (tested by the exploit corpus), which contains it just as well.
 */
export const RUNSC_PIDS_OVERHEAD = 64;
/**
 * Paths hidden from the program (a bind of /dev/null, or an empty read-only tmpfs for a directory).
 * Setting the list replaces the engine's own, so it starts with Docker's defaults (and the one
 * newer engines add). Then `/dev/pts/ptmx` (which `/dev/ptmx` links to): pseudo-terminals come
 * from `kernel.pty.max`, one host-wide count shared by every container's devpts (4096, of which
 * only the host's own devpts keeps a reserve), so one program opening ~3000 could make openpty
 * fail in every other sandbox. With it masked no sandbox gets a pty (EINVAL) under runc; gVisor
 * serves ptys from its own devpts.
 */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
  '/dev/pts/ptmx',
];

/** Slack past the deadline for create/start/remove before a container counts as orphaned. */
export const REAP_GRACE_MS = 60_000;

export interface ContainerSpecInput {
  evaluationId: string;
  agentId: string;
  image: string;
  runtime: ContainerRuntime;
  /** The runtime's command; the entry file (unless null) and then `args` are appended. */
  run: readonly string[];
  /** Null for a compiled program, whose command is the built binary. */
  entryFile: string | null;
  args: readonly string[];
  /** The seccomp profile (inline JSON); required, so no container ever runs without it. */
  seccompProfile: string;
  /** An AppArmor profile loaded on the host, when the host has AppArmor. */
  appArmorProfile?: string | undefined;
  /** A host directory mounted at BUILD_DIR: writable for a compile step, read-only (but executable) for running its output. */
  build?: { hostDir: string; writable: boolean } | undefined;
  limits: Limits;
  /** Host directory with the files, bind-mounted read-only at CODE_DIR. */
  hostCodeDir: string;
  /**
   * The container uid (and gid) the program runs as: one per concurrently running sandbox, from
   * the host's UidPool, so no two sandboxes share the kernel's per-user budgets.
   */
  uid: number;
  /** Creation time, epoch ms. */
  now: number;
}

/**
 * The create options for one evaluation's container: no network, read-only root, unprivileged
 * user, no capabilities, every resource bounded. Pure, so each hardening choice is unit-tested.
 */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { limits } = input;
  const memoryBytes = Math.floor(limits.memoryMb * MiB);
  const hostConfig: Docker.HostConfig & { CgroupnsMode: 'private' } = {
    NetworkMode: 'none',
    ReadonlyRootfs: true,
    // noexec: nothing written at run time can be executed as a binary.
    Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${TMPFS_MB}m,nr_inodes=4096,mode=1777` },
    ShmSize: 16 * MiB,
    Mounts: [
      { Type: 'bind', Source: input.hostCodeDir, Target: CODE_DIR, ReadOnly: true },
      ...(input.build ? [{ Type: 'bind' as const, Source: input.build.hostDir, Target: BUILD_DIR, ReadOnly: !input.build.writable }] : []),
    ],
    CapDrop: ['ALL'],
    // The engine takes the profile's JSON inline. Under runsc the sentry implements the syscalls
    // itself (and this gVisor release ignores OCI seccomp); gVisor is then the syscall boundary.
    SecurityOpt: [
      'no-new-privileges',
      `seccomp=${input.seccompProfile}`,
      ...(input.appArmorProfile ? [`apparmor=${input.appArmorProfile}`] : []),
    ],
    Privileged: false,
    MaskedPaths: MASKED_PATHS,
    IpcMode: 'private',
    CgroupnsMode: 'private',
    Memory: memoryBytes,
    // Equal to Memory: no swap, so the memory limit is a hard one.
    MemorySwap: memoryBytes,
    // Under host memory pressure, the sandbox is what the kernel kills first (pinned from the
    // host after start under runc, so the program cannot lower it: oom-pin.ts).
    OomScoreAdj: SANDBOX_OOM_SCORE_ADJ,
    PidsLimit: input.runtime === 'runsc' ? limits.pids + RUNSC_PIDS_OVERHEAD : limits.pids,
    NanoCpus: Math.round(limits.cpus * 1e9),
    Ulimits: sandboxUlimits(input.runtime === 'runsc' ? limits.pids + RUNSC_PIDS_OVERHEAD : limits.pids),
    // A tiny init as PID 1: the program gets normal signal semantics, zombies are reaped, and
    // when the program exits the init exits, which kills every process left in the container.
    Init: true,
    Runtime: input.runtime,
    // Output reaches us through attach only; a log driver would copy it to the host's disk.
    LogConfig: { Type: 'none', Config: {} },
    AutoRemove: false,
  };
  return {
    Image: input.image,
    // An absolute path: a file named like an option ("-c") is still run as a file.
    Cmd: [...input.run, ...(input.entryFile === null ? [] : [`${CODE_DIR}/${input.entryFile}`]), ...input.args],
    WorkingDir: CODE_DIR,
    User: `${input.uid}:${input.uid}`,
    Hostname: 'sandbox',
    // Only these (Docker adds HOSTNAME): nothing of the agent's environment reaches the program.
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8', 'HOME=/tmp'],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // The container's stdin closes when our attach closes it, so the program sees EOF.
    StdinOnce: true,
    Tty: false,
    // With networking disabled the engine skips libnetwork's per-start hook (it re-executes dockerd,
    // ~90 ms a start) and still gives the container its own namespace holding only `lo`.
    NetworkDisabled: true,
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.evaluation]: input.evaluationId,
      [LABELS.agent]: input.agentId,
      [LABELS.deadline]: String(input.now + limits.timeoutMs + REAP_GRACE_MS),
    },
    HostConfig: hostConfig,
  };
}

/**
 * Per-process rlimits, the same for every sandbox. The kernel counts pending signals, POSIX
 * message-queue bytes, shm-locked memory and processes per user *and up the user-namespace
 * hierarchy*: every container's charge is added to host root's counter too, and checked there
 * against the engine's own limits (96,365 signals and processes, 819,200 queue bytes, 8 MiB
 * locked on this host). An rlimit caps what one sandbox can add, so the total any number of them
 * can add is at most SANDBOX_UID_COUNT times it; the agent checks at start that this total stays
 * below half of its own limits (`hierarchyBudgetProblems`), so neither another sandbox nor the
 * host can be denied.
 */
export const SANDBOX_RLIMITS = {
  /** Enough for a program's own signalling (a handful are ever pending); 256 × 128 ≪ 96,365. */
  sigpending: 128,
  /**
   * Zero: no POSIX message queue can be created (the smallest queue charges a few hundred bytes,
   * so mq_open(O_CREAT) fails with EMFILE). No runtime needs one, and the engine's limit equals
   * host root's own, so any share would let 1–2 sandboxes deny root its queues.
   */
  msgqueue: 0,
  /** 16 KiB: mlock of a few secret pages works; 256 × 16 KiB = 4 MiB stays below half the engine's 8 MiB. */
  memlock: 16 * 1024,
} as const;

/** How far nproc sits above PidsLimit: the pids cgroup stays the limit a fork bomb meets (and `pidsLimitHit` reports). */
const NPROC_SLACK = 16;

export function sandboxUlimits(pids: number): { Name: string; Soft: number; Hard: number }[] {
  const limit = (Name: string, n: number) => ({ Name, Soft: n, Hard: n });
  return [
    limit('nofile', 256),
    // Counted per container (its own user namespace) and up to host root: bounded per sandbox, so
    // all of them together stay far below the engine's 96,365.
    limit('nproc', pids + NPROC_SLACK),
    limit('fsize', TMPFS_MB * MiB),
    limit('core', 0),
    limit('sigpending', SANDBOX_RLIMITS.sigpending),
    limit('msgqueue', SANDBOX_RLIMITS.msgqueue),
    limit('memlock', SANDBOX_RLIMITS.memlock),
  ];
}

/** The smallest memory limit the engine accepts. */
const MIN_MEMORY_MB = 6;

/**
 * Rejects limits no container can be created with. Ceilings are resolved upstream
 * (`resolveLimits`); this only catches requests too small to run, which the user can fix.
 */
export function checkLimits(limits: Limits): void {
  const bad = (what: string) => {
    throw new InvalidProgramError(`limits.${what}`);
  };
  if (!(limits.memoryMb >= MIN_MEMORY_MB)) bad(`memoryMb must be at least ${MIN_MEMORY_MB}`);
  if (!(Number.isInteger(limits.pids) && limits.pids >= 1)) bad('pids must be a positive integer');
  if (!(limits.cpus >= 0.01)) bad('cpus must be at least 0.01');
  if (!(limits.timeoutMs > 0)) bad('timeoutMs must be positive');
  if (!(limits.outputBytes >= 0)) bad('outputBytes must not be negative');
}

/** The entry file: the runtime's main file when submitted, else the first file. */
export function entryFile(names: readonly string[], mainFile: string): string {
  const first = names[0];
  if (names.includes(mainFile) || first === undefined) return mainFile;
  return first;
}
