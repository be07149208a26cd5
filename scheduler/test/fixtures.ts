import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage, type Storage } from '@crucible/storage';
import { redisKeys, type RedisKeys } from '@crucible/executor-agent/protocol';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';

// Tests are an edge like main.ts: the one place here that reads the environment.
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const silent = pino({ level: 'silent' });

/** The storage backends the scheduler's storage-facing tests run on (issue 19), like storage/test/backends.ts. */
export const BACKENDS = ['postgres', 'pglite'] as const;
export type BackendName = (typeof BACKENDS)[number];

export type Fixture = { redis: Redis; keys: RedisKeys; storage: Storage; prefix: string; backend: BackendName } & AsyncDisposable;

/**
 * A real Redis with a unique key prefix and a fresh database — a new schema on the test
 * PostgreSQL, or a new PGlite folder — removed afterwards.
 */
export async function fixture(backend: BackendName = 'pglite'): Promise<Fixture> {
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'crucible-sched-'));
  const schema = `sched_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const storage = backend === 'postgres' ? await openStorage({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema }) : await openStorage({ dataDir: dir });
  const redis = new Redis(REDIS_URL);
  return {
    redis,
    keys: redisKeys(prefix),
    storage,
    prefix,
    backend,
    async [Symbol.asyncDispose]() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      if (backend === 'postgres') await storage.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function newEvaluation(storage: Storage, overrides: Record<string, unknown> = {}) {
  return storage.evaluations.create({
    owner: 'tester',
    language: 'javascript',
    runtime: 'wasm',
    priority: 'normal',
    files: [{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }],
    stdin: '',
    args: [],
    limits: { ...DEFAULT_LIMITS },
    metadata: {},
    ...overrides,
  });
}
