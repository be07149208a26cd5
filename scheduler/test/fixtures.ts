import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage, type Storage } from '@crucible/storage';
import { redisKeys, type RedisKeys } from '@crucible/executor-agent/protocol';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const silent = pino({ level: 'silent' });

/** A real Redis with a unique key prefix and a fresh PGlite database, removed afterwards. */
export async function fixture(): Promise<{ redis: Redis; keys: RedisKeys; storage: Storage; prefix: string } & AsyncDisposable> {
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'crucible-sched-'));
  const storage = await openStorage({ dataDir: dir });
  const redis = new Redis(REDIS_URL);
  return {
    redis,
    keys: redisKeys(prefix),
    storage,
    prefix,
    async [Symbol.asyncDispose]() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
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
