import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import knex from 'knex';
import { Platform } from './platform.js';

const SCHEDULER_MAIN = resolve(import.meta.dirname, '../../scheduler/src/main.ts');
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('the platform on PostgreSQL (DATABASE_URL) instead of PGlite', () => {
  const database = `crucible_e2e_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: ADMIN_URL });
  let p: Platform;

  before(async () => {
    await admin.raw(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    p = await Platform.start({ env: { DATABASE_URL: url.toString(), CRUCIBLE_AGENTS: '1' } });
    await p.waitForLanguage('javascript');
  });

  after(async () => {
    await p?.[Symbol.asyncDispose]();
    await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.destroy();
  });

  it('stores, runs and streams evaluations', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("on postgres")' });
    assert.equal(e.outcome, 'success');
    assert.equal(e.stdout, 'on postgres\n');
    const list = await p.request('GET', '/v1/evaluations');
    assert.equal(list.json.items[0].id, e.id);
    const ready = await p.request('GET', '/readyz');
    assert.equal(ready.json.checks.postgres.ok, true);
  });
});

describe('gateway and scheduler as separate processes on PostgreSQL', () => {
  const database = `crucible_e2e_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: ADMIN_URL });
  const prefix = `crucible-test-${randomBytes(4).toString('hex')}`;
  const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
  let p: Platform;
  let scheduler: ChildProcess;

  before(async () => {
    await admin.raw(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    scheduler = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', SCHEDULER_MAIN], {
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        CRUCIBLE_REDIS_PREFIX: prefix,
        CRUCIBLE_AGENTS: '1',
        CRUCIBLE_SCHEDULER_METRICS_PORT: String(metricsPort),
        CRUCIBLE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    p = await Platform.start({ prefix, env: { DATABASE_URL: url.toString(), CRUCIBLE_SCHEDULER: 'external', CRUCIBLE_AGENTS: '0' } });
    await p.waitForLanguage('javascript');
  });

  after(async () => {
    await p?.[Symbol.asyncDispose]();
    if (scheduler && scheduler.exitCode === null) {
      const exited = once(scheduler, 'exit');
      scheduler.kill('SIGTERM');
      await exited;
    }
    await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.destroy();
  });

  it('runs evaluations, and the scheduler serves its own metrics', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("split")' });
    assert.equal(e.stdout, 'split\n');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^crucible_evaluations_finished_total\{language="javascript",runtime="wasm",status="completed",outcome="success"\} 1$/m);
    assert.match(metrics, /^crucible_evaluation_e2e_duration_seconds_count\{runtime="wasm"\} 1$/m);
  });
});
