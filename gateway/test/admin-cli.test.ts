import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import knex from 'knex';
import { Platform } from './platform.js';

const ADMIN_MAIN = resolve(import.meta.dirname, '../src/admin/main.ts');
const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `./crucible admin ...` against the database and Redis of a running platform (PostgreSQL: shared by both). */
describe('crucible admin (operator commands)', () => {
  const database = `crucible_admin_${randomBytes(4).toString('hex')}`;
  const server = knex({ client: 'pg', connection: SERVER_URL });
  let p: Platform;
  let env: Record<string, string>;

  const admin = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', ADMIN_MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.once('close', (code) => ok({ code, stdout, stderr }));
    });

  before(async () => {
    await server.raw(`CREATE DATABASE ${database}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${database}`;
    p = await Platform.start({ env: { DATABASE_URL: url.toString(), CRUCIBLE_AGENTS: '0' } });
    env = { DATABASE_URL: url.toString(), CRUCIBLE_REDIS_PREFIX: p.prefix };
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
    await server.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.destroy();
  });

  it('creates a user and a key that the running API accepts, and revokes it at once', async () => {
    const user = await admin(['create-user', '--name', 'ops-made', '--role', 'researcher']);
    assert.equal(user.code, 0, user.stderr);
    const { id, role } = JSON.parse(user.stdout);
    assert.equal(role, 'researcher');
    const key = await admin(['create-key', id]);
    assert.equal(key.code, 0, key.stderr);
    const issued = JSON.parse(key.stdout);
    assert.match(issued.key, /^crk_/);
    const h = { authorization: `Bearer ${issued.key}` };
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, h)).status, 200);
    const tokens = (await p.request('POST', '/v1/auth/token', undefined, h)).json;
    const revoke = await admin(['revoke-key', issued.id]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, h)).status, 401, 'the cached key is refused at once');
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, { authorization: `Bearer ${tokens.accessToken}` })).status, 401);
    const audit = (await p.request('GET', '/v1/audit?limit=100')).json.items.filter((i: { actor: string }) => i.actor === 'operator');
    assert.deepEqual(audit.map((i: { action: string }) => i.action).sort(), ['key.create', 'key.revoke', 'user.create']);
  });

  it('refuses bad usage with exit code 2 and unknown ids with 1', async () => {
    assert.equal((await admin(['create-user', '--name', 'x', '--role', 'root'])).code, 2);
    assert.equal((await admin(['frobnicate'])).code, 2);
    assert.equal((await admin(['create-key', 'not-a-uuid'])).code, 2);
    const missing = await admin(['revoke-key', crypto.randomUUID()]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no key/);
  });
});
