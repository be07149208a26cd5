import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KEY_FORMAT } from './auth/api-keys.js';
import type { RateLimitPolicies } from './auth/rate-limit.js';
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
  /** CRUCIBLE_ADMIN_KEY: the initial admin's API key, used at first start only. */
  adminKey: string | undefined;
  /** CRUCIBLE_JWT_SECRET; unset: generated once and kept in the database (local mode). */
  jwtSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  rateLimits: RateLimitPolicies;
  /** Unfinished (queued or running) evaluations one user may have at once. */
  maxActiveEvaluations: number;
  /** Origins allowed to call the API from a browser (CORS); empty: CORS is off. */
  corsOrigins: readonly string[];
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
    adminKey: adminKey(env.CRUCIBLE_ADMIN_KEY),
    jwtSecret: jwtSecret(env.CRUCIBLE_JWT_SECRET),
    accessTokenTtlSeconds: int(env.CRUCIBLE_ACCESS_TOKEN_TTL_SECONDS, 900, 'CRUCIBLE_ACCESS_TOKEN_TTL_SECONDS'),
    refreshTokenTtlSeconds: int(env.CRUCIBLE_REFRESH_TOKEN_TTL_SECONDS, 7 * 24 * 3600, 'CRUCIBLE_REFRESH_TOKEN_TTL_SECONDS'),
    // Per API key. submit: a burst of 60, then one a second (a batch is one submission); read: a
    // burst of 600, then 20 a second (a status page polls a few times a second). auth: failed
    // authentications per client address, 20, then one every 5 s.
    rateLimits: Object.freeze({
      submit: bucket(env, 'SUBMIT', 60, 1),
      read: bucket(env, 'READ', 600, 20),
      auth: bucket(env, 'AUTH', 20, 0.2),
    }),
    maxActiveEvaluations: int(env.CRUCIBLE_MAX_ACTIVE_EVALUATIONS, 1000, 'CRUCIBLE_MAX_ACTIVE_EVALUATIONS'),
    corsOrigins: Object.freeze((env.CRUCIBLE_CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean)),
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

function bucket(env: NodeJS.ProcessEnv, name: string, burst: number, perSecond: number) {
  return Object.freeze({
    burst: int(env[`CRUCIBLE_RATE_${name}_BURST`], burst, `CRUCIBLE_RATE_${name}_BURST`),
    perSecond: num(env[`CRUCIBLE_RATE_${name}_PER_SECOND`], perSecond, `CRUCIBLE_RATE_${name}_PER_SECOND`),
  });
}

function adminKey(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!KEY_FORMAT.test(value)) throw new Error('CRUCIBLE_ADMIN_KEY must look like an API key: crk_ and 16 to 128 of A-Z a-z 0-9 _ -');
  return value;
}

function jwtSecret(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (Buffer.byteLength(value) < 32) throw new Error('CRUCIBLE_JWT_SECRET must be at least 32 bytes');
  return value;
}

function packageVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}
