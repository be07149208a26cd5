/**
 * The topology jobs/ deploys: the scheduler as its own process with the nomad driver, the gateway
 * with CRUCIBLE_SCHEDULER=external, both on PostgreSQL, against the fake Nomad. The gateway has no
 * driver of its own, so its /readyz learns about Nomad from the scheduler through Redis.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import knex from 'knex';
import { Platform } from '../../../gateway/test/platform.js';
import { FakeNomad } from './fake-nomad/fake-nomad.js';
import { crucibleCheckout, until } from './helpers.js';

const SCHEDULER_MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('gateway and a standalone nomad-driver scheduler on PostgreSQL', { timeout: 300_000 }, () => {
  const database = `crucible_nomad_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: ADMIN_URL });
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
  let fake: FakeNomad;
  let scheduler: ChildProcess;
  let platform: Platform;

  before(async () => {
    await admin.raw(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    fake = await FakeNomad.start({ token: 'sched-token', rewrite: crucibleCheckout });
    fake.state.addNode('node-1');
    const common = { DATABASE_URL: url.toString(), CRUCIBLE_REDIS_PREFIX: prefix, CRUCIBLE_DRIVER: 'nomad' };
    scheduler = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', SCHEDULER_MAIN], {
      env: {
        ...process.env,
        ...common,
        NOMAD_ADDR: fake.address,
        NOMAD_TOKEN: 'sched-token',
        CRUCIBLE_NOMAD_INTERVAL_MS: '300',
        CRUCIBLE_NOMAD_IDLE_TIMEOUT_MS: '5000',
        CRUCIBLE_SCHEDULER_METRICS_PORT: String(metricsPort),
        CRUCIBLE_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // The gateway gets no Nomad address or token: only the scheduler talks to Nomad.
    platform = await Platform.start({ prefix, env: { ...common, CRUCIBLE_SCHEDULER: 'external', NOMAD_ADDR: '', NOMAD_TOKEN: '' } });
  });

  after(async () => {
    await platform?.[Symbol.asyncDispose]();
    if (scheduler && scheduler.exitCode === null) {
      const exited = once(scheduler, 'exit');
      scheduler.kill('SIGTERM');
      await exited;
    }
    await fake?.[Symbol.asyncDispose]();
    await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.destroy();
    assert.deepEqual(fake.violations, []);
  });

  test('evaluations run on dispatched agents; the gateway reports Nomad as the scheduler sees it', async () => {
    const ready = await until(async () => {
      const r = await platform.request('GET', '/readyz');
      return r.status === 200 ? r : undefined;
    }, 60_000, 'ready');
    assert.match(ready.json.checks.driver.detail, /^Nomad at http:\/\/127\.0\.0\.1:\d+ \(scheduler, /);

    const res = await platform.request('POST', '/v1/evaluations?wait=60', { language: 'javascript', code: 'console.log("split on nomad")' });
    const ev = await until(async () => {
      const e = (await platform.request('GET', `/v1/evaluations/${res.json.id}`)).json;
      return e.status === 'completed' ? e : undefined;
    }, 120_000, 'the evaluation');
    assert.equal(ev.stdout, 'split on nomad\n');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^crucible_nomad_dispatches_total\{lane="normal"\} 1$/m);
    // The scheduler's own health endpoints (what its Nomad service check asks).
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 200);
    const schedulerReady = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    const readyBody = (await schedulerReady.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    assert.equal(schedulerReady.status, 200, JSON.stringify(readyBody));
    assert.deepEqual(Object.keys(readyBody.checks).sort(), ['driver', 'postgres', 'redis']);
    assert.match(readyBody.checks.driver!.detail ?? '', /^Nomad at http:\/\/127\.0\.0\.1:\d+/);

    await fake.pause();
    try {
      const down = await until(async () => {
        const r = await platform.request('GET', '/readyz');
        return r.status === 503 ? r : undefined;
      }, 60_000, 'not ready');
      assert.match(down.json.error.details.checks.driver.detail, /unreachable/);
      const schedulerDown = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
      assert.equal(schedulerDown.status, 503);
      assert.equal(((await schedulerDown.json()) as any).error.details.checks.driver.ok, false);
    } finally {
      await fake.resume();
    }
  });
});
