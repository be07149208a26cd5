import { cpus, hostname, totalmem } from 'node:os';
import { DEFAULT_MAX_LIMITS, PRIORITIES, type Priority } from '@crucible/storage/domain';
import { loadNomadSettings, type NomadSettings } from './nomad/config.js';

export interface SchedulerConfig {
  redisUrl: string;
  redisPrefix: string;
  driver: 'local' | 'nomad';
  /** Set when driver is `nomad` (see src/nomad/config.ts). */
  nomad?: NomadSettings;
  /** Local driver: agents each pool keeps at least (and starts with). */
  agents: number;
  /** Agents each pool may scale up to. */
  agentsMax: number;
  /** Pools of agents, each serving some lanes (in priority order) and scaled on its own. */
  pools: Priority[][];
  /** An agent idle for longer than this may be retired (down to `agents`). */
  agentIdleMs: number;
  scaleIntervalMs: number;
  /** Tasks one agent runs at once, across its lanes. */
  agentConcurrency: number;
  stallIntervalMs: number;
  /** The largest limits a task may have: what an agent is sized for. */
  maxTaskMemoryMb: number;
  maxTaskCpus: number;
  /** This host, for the local driver's capacity. */
  host: { cpus: number; memoryMb: number };
  retries: number;
  retryBackoffMs: number;
  reconcileIntervalMs: number;
  /** Unfinished evaluations younger than this are not reconciled: their enqueue or report may be in flight. */
  reconcileGraceMs: number;
  /** How often the overdue sweeper (the backstop, overdue-sweeper.ts) runs. */
  overdueIntervalMs: number;
  /** Time past an evaluation's deadline before the sweeper declares it lost and fails it. */
  overdueGraceMs: number;
  /** Added to a container run's deadline (or its timeout, if longer): the compile step's budget. */
  overdueCompileAllowanceMs: number;
  shutdownGraceMs: number;
  consumerName: string;
  /** Agents' own Redis URL (their ACL user, gateway/SECURITY.md); REDIS_URL when unset. Passed through to agents only. */
  agentRedisUrl: string;
  /** Passed through to agents only. */
  agentPath: string;
  dockerHost: string;
  /** The agents' private directory (CRUCIBLE_SANDBOX_DIR); empty: the agent's default. */
  agentSandboxDir: string;
  containerRuntime: string;
  logLevel: string;
}

/** Reads the scheduler's configuration once, at the edge; every default lives here. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SchedulerConfig> {
  const driver = env.CRUCIBLE_DRIVER ?? 'local';
  if (driver !== 'local' && driver !== 'nomad') throw new Error(`CRUCIBLE_DRIVER must be "local" or "nomad", got "${driver}"`);
  const agents = int(env.CRUCIBLE_AGENTS, 2, 0, 'CRUCIBLE_AGENTS');
  return Object.freeze({
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.CRUCIBLE_REDIS_PREFIX ?? 'crucible',
    driver,
    nomad: driver === 'nomad' ? loadNomadSettings(env) : undefined,
    agents,
    agentsMax: Math.max(agents, int(env.CRUCIBLE_AGENTS_MAX, Math.max(agents, cpus().length), 0, 'CRUCIBLE_AGENTS_MAX')),
    pools: parsePools(env.CRUCIBLE_POOLS ?? PRIORITIES.join(',')),
    agentIdleMs: int(env.CRUCIBLE_AGENT_IDLE_MS, 60_000, 0, 'CRUCIBLE_AGENT_IDLE_MS'),
    scaleIntervalMs: int(env.CRUCIBLE_SCALE_INTERVAL_MS, 2000, 100, 'CRUCIBLE_SCALE_INTERVAL_MS'),
    stallIntervalMs: int(env.CRUCIBLE_STALL_INTERVAL_MS, 5000, 100, 'CRUCIBLE_STALL_INTERVAL_MS'),
    maxTaskMemoryMb: int(env.CRUCIBLE_MAX_MEMORY_MB, DEFAULT_MAX_LIMITS.memoryMb, 1, 'CRUCIBLE_MAX_MEMORY_MB'),
    maxTaskCpus: Number(env.CRUCIBLE_MAX_CPUS || DEFAULT_MAX_LIMITS.cpus),
    host: { cpus: cpus().length, memoryMb: Math.floor(totalmem() / 2 ** 20) },
    agentConcurrency: int(env.CRUCIBLE_AGENT_CONCURRENCY, 2, 1, 'CRUCIBLE_AGENT_CONCURRENCY'),
    retries: int(env.CRUCIBLE_TASK_RETRIES, 2, 0, 'CRUCIBLE_TASK_RETRIES'),
    retryBackoffMs: int(env.CRUCIBLE_RETRY_BACKOFF_MS, 1000, 1, 'CRUCIBLE_RETRY_BACKOFF_MS'),
    reconcileIntervalMs: int(env.CRUCIBLE_RECONCILE_INTERVAL_MS, 30_000, 1000, 'CRUCIBLE_RECONCILE_INTERVAL_MS'),
    reconcileGraceMs: int(env.CRUCIBLE_RECONCILE_GRACE_MS, 60_000, 0, 'CRUCIBLE_RECONCILE_GRACE_MS'),
    overdueIntervalMs: int(env.CRUCIBLE_OVERDUE_INTERVAL_MS, 10_000, 100, 'CRUCIBLE_OVERDUE_INTERVAL_MS'),
    overdueGraceMs: int(env.CRUCIBLE_OVERDUE_GRACE_MS, 60_000, 0, 'CRUCIBLE_OVERDUE_GRACE_MS'),
    // The largest compile limit of the runtime catalog (executor-agent/runtimes/cpp: 30 s).
    overdueCompileAllowanceMs: int(env.CRUCIBLE_OVERDUE_COMPILE_ALLOWANCE_MS, 30_000, 0, 'CRUCIBLE_OVERDUE_COMPILE_ALLOWANCE_MS'),
    shutdownGraceMs: int(env.CRUCIBLE_SHUTDOWN_GRACE_MS, 10_000, 0, 'CRUCIBLE_SHUTDOWN_GRACE_MS'),
    consumerName: env.CRUCIBLE_SCHEDULER_ID ?? `${hostname()}-${process.pid}`,
    agentRedisUrl: env.CRUCIBLE_AGENT_REDIS_URL || (env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    agentPath: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    dockerHost: env.DOCKER_HOST ?? '',
    agentSandboxDir: env.CRUCIBLE_SANDBOX_DIR ?? '',
    containerRuntime: env.CRUCIBLE_CONTAINER_RUNTIME ?? 'runc',
    logLevel: env.CRUCIBLE_LOG_LEVEL ?? 'info',
  });
}

function int(value: string | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** `high|normal,low` → [[high], [normal, low]]: pools separated by `|`, lanes by `,`. */
function parsePools(value: string): Priority[][] {
  const pools = value.split('|').map((pool) => pool.split(',').map((l) => l.trim()).filter(Boolean));
  for (const lane of pools.flat()) {
    if (!(PRIORITIES as readonly string[]).includes(lane)) throw new Error(`CRUCIBLE_POOLS: unknown lane "${lane}"`);
  }
  if (pools.some((p) => p.length === 0)) throw new Error('CRUCIBLE_POOLS: empty pool');
  // Each pool's lanes in priority order: the agents look at them in that order.
  return pools.map((p) => PRIORITIES.filter((l) => p.includes(l)));
}
