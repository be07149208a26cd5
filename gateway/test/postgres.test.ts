import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import knex from 'knex';
import { Platform } from './platform.js';

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
