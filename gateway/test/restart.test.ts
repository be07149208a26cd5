import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Platform } from './platform.js';
import { waitFor } from './helpers.js';

describe('an accepted evaluation survives a restart of the platform', () => {
  it('is stored while no agent runs, readable after restart, and then runs', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crucible-restart-'));
    try {
      const first = await Platform.start({ dataDir, env: { CRUCIBLE_AGENTS: '0' } });
      const submit = await first.request('POST', '/v1/evaluations', { language: 'javascript', code: 'console.log("after restart")' });
      assert.equal(submit.status, 202);
      await first.stop();

      const second = await Platform.start({ dataDir, prefix: first.prefix, env: { CRUCIBLE_AGENTS: '1' } });
      try {
        const read = await second.request('GET', `/v1/evaluations/${submit.json.id}`);
        assert.equal(read.status, 200);
        await waitFor(async () => (await second.request('GET', `/v1/evaluations/${submit.json.id}`)).json.status === 'completed');
        const done = await second.request('GET', `/v1/evaluations/${submit.json.id}`);
        assert.equal(done.json.stdout, 'after restart\n');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('re-enqueues what Redis lost while the platform was down', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crucible-restart-'));
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const first = await Platform.start({ dataDir, env: { CRUCIBLE_AGENTS: '0' } });
      const submit = await first.request('POST', '/v1/evaluations', { language: 'javascript', code: 'console.log("recovered")' });
      assert.equal(submit.status, 202);
      await first.stop();
      // Redis here keeps nothing on disk: simulate it restarting empty.
      const keys = await redis.keys(`${first.prefix}*`);
      if (keys.length) await redis.del(...keys);

      const second = await Platform.start({ dataDir, prefix: first.prefix, env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_RECONCILE_GRACE_MS: '0' } });
      try {
        await waitFor(async () => (await second.request('GET', `/v1/evaluations/${submit.json.id}`)).json.status === 'completed');
        assert.equal((await second.request('GET', `/v1/evaluations/${submit.json.id}`)).json.stdout, 'recovered\n');
      } finally {
        await second.stop();
      }
    } finally {
      redis.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
