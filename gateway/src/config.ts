import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_LIMITS, DEFAULT_MAX_LIMITS, type Limits } from '@crucible/storage/domain';

export interface GatewayConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string;
  redisPrefix: string;
  bodyLimitBytes: number;
  maxWaitSeconds: number;
  /** Backpressure: waiting tasks (all lanes) above which submissions get 503 `queue_full`. */
  maxQueueDepth: number;
  maxLimits: Limits;
  defaultLimits: Limits;
  /** `embedded` runs the scheduler in this process (required with PGlite: one process per data folder). */
  scheduler: 'embedded' | 'external';
  logLevel: string;
  /** This build's version (the gateway package's), for crucible_build_info. */
  version: string;
}

/** Reads the gateway's configuration once, at the edge; every default lives here. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<GatewayConfig> {
  const scheduler = env.CRUCIBLE_SCHEDULER ?? 'embedded';
  if (scheduler !== 'embedded' && scheduler !== 'external') throw new Error('CRUCIBLE_SCHEDULER must be embedded or external');
  if (scheduler === 'external' && !env.DATABASE_URL) throw new Error('CRUCIBLE_SCHEDULER=external needs DATABASE_URL (PGlite is single-process)');
  const maxLimits: Limits = {
    timeoutMs: int(env.CRUCIBLE_MAX_TIMEOUT_MS, DEFAULT_MAX_LIMITS.timeoutMs, 'CRUCIBLE_MAX_TIMEOUT_MS'),
    memoryMb: int(env.CRUCIBLE_MAX_MEMORY_MB, DEFAULT_MAX_LIMITS.memoryMb, 'CRUCIBLE_MAX_MEMORY_MB'),
    cpus: num(env.CRUCIBLE_MAX_CPUS, DEFAULT_MAX_LIMITS.cpus, 'CRUCIBLE_MAX_CPUS'),
    pids: int(env.CRUCIBLE_MAX_PIDS, DEFAULT_MAX_LIMITS.pids, 'CRUCIBLE_MAX_PIDS'),
    outputBytes: int(env.CRUCIBLE_MAX_OUTPUT_BYTES, DEFAULT_MAX_LIMITS.outputBytes, 'CRUCIBLE_MAX_OUTPUT_BYTES'),
  };
  return Object.freeze({
    host: env.CRUCIBLE_HOST ?? '127.0.0.1',
    port: int(env.CRUCIBLE_PORT, 8080, 'CRUCIBLE_PORT', 0),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.CRUCIBLE_DATA_DIR ?? '.crucible/data'),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisPrefix: env.CRUCIBLE_REDIS_PREFIX ?? 'crucible',
    bodyLimitBytes: int(env.CRUCIBLE_BODY_LIMIT_BYTES, 4 * 1024 * 1024, 'CRUCIBLE_BODY_LIMIT_BYTES'),
    maxWaitSeconds: int(env.CRUCIBLE_MAX_WAIT_SECONDS, 60, 'CRUCIBLE_MAX_WAIT_SECONDS'),
    maxQueueDepth: int(env.CRUCIBLE_MAX_QUEUE_DEPTH, 10_000, 'CRUCIBLE_MAX_QUEUE_DEPTH'),
    maxLimits: Object.freeze(maxLimits),
    defaultLimits: Object.freeze(Object.fromEntries(
      Object.entries(DEFAULT_LIMITS).map(([k, v]) => [k, Math.min(v, maxLimits[k as keyof Limits])]),
    ) as unknown as Limits),
    scheduler,
    logLevel: env.CRUCIBLE_LOG_LEVEL ?? 'info',
    version: packageVersion(),
  });
}

function int(value: string | undefined, fallback: number, name: string, min = 1): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function num(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return n;
}

function packageVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
