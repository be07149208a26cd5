import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from './helpers.js';
import { Platform } from './platform.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Issue 12, through the public API: a program whose output storage could not hold (a NUL byte:
 * PostgreSQL text/jsonb refuse it) once froze every later evaluation, because the collector
 * retried that one report forever. Output is now stored as bytes, so the program's evaluation must
 * complete with its exact output (the poison-message class itself is tested with a real storage
 * rejection in scheduler/test/result-collector-failures.test.ts); the ones after it must run, and
 * no report may stay pending.
 */
describe('one report storage refuses cannot stall the platform (real Docker, Redis, storage)', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_AGENTS_MAX: '1' } });
    await p.waitForLanguage('python', 120_000);
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
    if (p) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${p.prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });

  const get = async (id: string) => (await p.request('GET', `/v1/evaluations/${id}`)).json;

  it('a program printing NUL ends, and an evaluation submitted after it completes', async () => {
    const hostile = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'import sys\nsys.stdout.write("a\\0b\\n")\nsys.stdout.flush()\n' });
    assert.equal(hostile.status, 202, JSON.stringify(hostile.json));
    const benign = await p.request('POST', '/v1/evaluations', { language: 'javascript', runtime: 'wasm', code: 'console.log("still flowing")' });
    assert.equal(benign.status, 202);
    await waitFor(async () => (await get(benign.json.id)).status === 'completed', 180_000);
    assert.equal((await get(benign.json.id)).stdout, 'still flowing\n');
    await waitFor(async () => ['completed', 'failed'].includes((await get(hostile.json.id)).status), 180_000);
    const ended = (await p.request('GET', `/v1/evaluations/${hostile.json.id}?output=base64`)).json;
    assert.equal(ended.status, 'completed', JSON.stringify(ended));
    assert.equal(ended.stdout, 'a\0b\n');
    assert.equal(Buffer.from(ended.stdoutBase64, 'base64').toString('latin1'), 'a\0b\n');
    const redis = new Redis(REDIS_URL);
    try {
      await waitFor(async () => ((await redis.xpending(`${p.prefix}:reports`, 'scheduler')) as [number])[0] === 0, 60_000);
    } finally {
      redis.disconnect();
    }
  });
});
