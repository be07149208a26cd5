import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { PRIORITIES, type Priority } from '@crucible/storage/domain';

export interface AgentConfig {
  redisUrl: string;
  redisPrefix: string;
  agentId: string;
  node: string;
  lanes: Priority[];
  concurrency: number;
  stallIntervalMs: number;
  /** On SIGTERM, how long running tasks may finish before they are handed back to their lane. */
  shutdownGraceMs: number;
  /** Docker endpoint, e.g. unix:///run/crucible/docker.sock; empty means dockerode's default. */
  dockerHost: string;
  containerRuntime: 'runc' | 'runsc';
  /** Engine runtimes a request may choose; empty means the sandbox's default (default runtime + runsc). */
  allowedContainerRuntimes: ('runc' | 'runsc')[];
  logLevel: string;
  /** Exit after this long without a task (0: never). The nomad driver sets it per dispatch. */
  idleTimeoutMs: number;
  /** Exit after this many tasks (0: no limit). */
  maxTasks: number;
  /**
   * The agent's private directory for programs' files and the host's uid pool leases; empty: the
   * sandbox's default (`<tmpdir>/crucible-sandbox`), which every agent on a host must share.
   */
  sandboxDir: string;
}

/** Reads the agent's configuration once, at the edge; every default lives here. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<AgentConfig> {
  const lanes = (env.CRUCIBLE_LANES ?? PRIORITIES.join(','))
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const lane of lanes) {
    if (!(PRIORITIES as readonly string[]).includes(lane)) throw new Error(`CRUCIBLE_LANES: unknown lane "${lane}"`);
  }
  const runtime = env.CRUCIBLE_CONTAINER_RUNTIME ?? 'runc';
  if (runtime !== 'runc' && runtime !== 'runsc') throw new Error(`CRUCIBLE_CONTAINER_RUNTIME must be runc or runsc`);
  const allowed = (env.CRUCIBLE_CONTAINER_RUNTIMES ?? '').split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of allowed) {
    if (r !== 'runc' && r !== 'runsc') throw new Error(`CRUCIBLE_CONTAINER_RUNTIMES: unknown runtime "${r}"`);
  }
  return Object.freeze({
    allowedContainerRuntimes: allowed as ('runc' | 'runsc')[],
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.CRUCIBLE_REDIS_PREFIX ?? 'crucible',
    agentId: env.CRUCIBLE_AGENT_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    node: env.CRUCIBLE_NODE ?? hostname(),
    lanes: lanes as Priority[],
    concurrency: positiveInt(env.CRUCIBLE_AGENT_CONCURRENCY, 2, 'CRUCIBLE_AGENT_CONCURRENCY'),
    stallIntervalMs: positiveInt(env.CRUCIBLE_STALL_INTERVAL_MS, 5000, 'CRUCIBLE_STALL_INTERVAL_MS'),
    shutdownGraceMs: positiveInt(env.CRUCIBLE_SHUTDOWN_GRACE_MS, 10_000, 'CRUCIBLE_SHUTDOWN_GRACE_MS'),
    dockerHost: env.DOCKER_HOST ?? '',
    containerRuntime: runtime,
    logLevel: env.CRUCIBLE_LOG_LEVEL ?? 'info',
    idleTimeoutMs: nonNegativeInt(env.CRUCIBLE_AGENT_IDLE_TIMEOUT_MS, 'CRUCIBLE_AGENT_IDLE_TIMEOUT_MS'),
    maxTasks: nonNegativeInt(env.CRUCIBLE_AGENT_MAX_TASKS, 'CRUCIBLE_AGENT_MAX_TASKS'),
    sandboxDir: env.CRUCIBLE_SANDBOX_DIR ?? '',
  });
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function nonNegativeInt(value: string | undefined, name: string): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}
