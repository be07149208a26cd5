import { hostname } from 'node:os';
import { loadNomadSettings, type NomadSettings } from './nomad/config.js';

export interface SchedulerConfig {
  redisUrl: string;
  redisPrefix: string;
  driver: 'local' | 'nomad';
  /** Set when driver is `nomad` (see src/nomad/config.ts). */
  nomad?: NomadSettings;
  /** Agent processes the local driver keeps running. */
  agents: number;
  agentConcurrency: number;
  retries: number;
  retryBackoffMs: number;
  reconcileIntervalMs: number;
  /** Unfinished evaluations younger than this are not reconciled: their enqueue or report may be in flight. */
  reconcileGraceMs: number;
  shutdownGraceMs: number;
  consumerName: string;
  /** Agents' own Redis URL (their ACL user, gateway/SECURITY.md); REDIS_URL when unset. Passed through to agents only. */
  agentRedisUrl: string;
  /** Passed through to agents only. */
  agentPath: string;
  dockerHost: string;
  containerRuntime: string;
  logLevel: string;
}

/** Reads the scheduler's configuration once, at the edge; every default lives here. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<SchedulerConfig> {
  const driver = env.CRUCIBLE_DRIVER ?? 'local';
  if (driver !== 'local' && driver !== 'nomad') throw new Error(`CRUCIBLE_DRIVER must be "local" or "nomad", got "${driver}"`);
  return Object.freeze({
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.CRUCIBLE_REDIS_PREFIX ?? 'crucible',
    driver,
    nomad: driver === 'nomad' ? loadNomadSettings(env) : undefined,
    agents: int(env.CRUCIBLE_AGENTS, 2, 0, 'CRUCIBLE_AGENTS'),
    agentConcurrency: int(env.CRUCIBLE_AGENT_CONCURRENCY, 2, 1, 'CRUCIBLE_AGENT_CONCURRENCY'),
    retries: int(env.CRUCIBLE_TASK_RETRIES, 2, 0, 'CRUCIBLE_TASK_RETRIES'),
    retryBackoffMs: int(env.CRUCIBLE_RETRY_BACKOFF_MS, 1000, 1, 'CRUCIBLE_RETRY_BACKOFF_MS'),
    reconcileIntervalMs: int(env.CRUCIBLE_RECONCILE_INTERVAL_MS, 30_000, 1000, 'CRUCIBLE_RECONCILE_INTERVAL_MS'),
    reconcileGraceMs: int(env.CRUCIBLE_RECONCILE_GRACE_MS, 60_000, 0, 'CRUCIBLE_RECONCILE_GRACE_MS'),
    shutdownGraceMs: int(env.CRUCIBLE_SHUTDOWN_GRACE_MS, 10_000, 0, 'CRUCIBLE_SHUTDOWN_GRACE_MS'),
    consumerName: env.CRUCIBLE_SCHEDULER_ID ?? `${hostname()}-${process.pid}`,
    agentRedisUrl: env.CRUCIBLE_AGENT_REDIS_URL || (env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    agentPath: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    dockerHost: env.DOCKER_HOST ?? '',
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
