import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKnex } from '@crucible/storage';
import { describeRejection, failureKind } from '../src/failure-kind.js';
import { BACKENDS, fixture, newEvaluation, TEST_DATABASE_URL } from './fixtures.js';
import { OwnPostgres } from './own-postgres.js';

/** The error a real call throws (the tests classify what the libraries really produce, never a hand-made error). */
async function errorOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** A TCP port nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const backend of BACKENDS) {
  describe(`failureKind: rejections storage really raises (${backend})`, () => {
    it('NUL in text (22021), NUL in jsonb (22P05), an integer out of range (22003), a check violation (23514)', async () => {
      await using f = await fixture(backend);
      const k = f.storage.knex;
      const e = await newEvaluation(f.storage);
      const cases: [string, unknown][] = [
        // Storage keeps output as bytes now, so NUL no longer reaches text or jsonb from a report;
        // the database still raises these for any text that does, which is what is classified.
        ['22021', await errorOf(() => k.raw('SELECT ?::text AS t', ['a\0b']))],
        ['22P05', await errorOf(() => k.raw('SELECT ?::jsonb AS j', ['"a\\u0000b"']))],
        ['22003', await errorOf(() => f.storage.evaluations.transition(e.id, 'completed', { durationMs: 1e12 }))],
        ['23514', await errorOf(() => k('evaluations').where({ id: e.id }).update({ status: 'bogus' }))],
      ];
      for (const [code, err] of cases) {
        assert.equal((err as { code?: string }).code, code, `the database raised ${code}`);
        assert.equal(failureKind(err), 'rejected', `${code} is a rejection`);
        const text = describeRejection(err);
        assert.match(text, new RegExp(code));
        assert.doesNotMatch(text, /update|insert|select/i, 'the statement (which may hold program data) is not repeated');
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(text, /[\u0000-\u001f]/);
      }
    });

    it('a bug in apply (a TypeError) is a rejection', async () => {
      const err = await errorOf(async () => (undefined as unknown as { result: { outcome: string } }).result.outcome);
      assert.ok(err instanceof TypeError);
      assert.equal(failureKind(err), 'rejected');
    });

    it('a closed pool is an outage', async () => {
      const f = await fixture(backend);
      const storage = f.storage;
      await f[Symbol.asyncDispose]();
      const err = await errorOf(() => storage.evaluations.get('00000000-0000-4000-8000-000000000000'));
      assert.match(String(err), /Unable to acquire a connection/);
      assert.equal(failureKind(err), 'outage');
    });
  });
}

describe('failureKind: outages real PostgreSQL and Redis produce', () => {
  it('connection refused by a closed port', async () => {
    const knex = createKnex({ databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, dataDir: '' });
    try {
      const err = await errorOf(() => knex.raw('SELECT 1'));
      assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
      assert.equal(failureKind(err), 'outage');
    } finally {
      await knex.destroy();
    }
  });

  it('the server terminating the connection (57P01, as at shutdown)', async () => {
    const knex = createKnex({ databaseUrl: TEST_DATABASE_URL, dataDir: '' });
    try {
      const terminated = await errorOf(() => knex.raw('SELECT pg_terminate_backend(pg_backend_pid())'));
      assert.equal((terminated as { code?: string }).code, '57P01');
      assert.equal(failureKind(terminated), 'outage');
    } finally {
      await knex.destroy();
    }
  });

  it('a server stopped under an open transaction (what a restart does to a busy pool)', async () => {
    await using pg = await OwnPostgres.start();
    const knex = createKnex({ databaseUrl: pg.url, dataDir: '' });
    try {
      const err = await errorOf(() =>
        knex.transaction(async (trx) => {
          // Stopped while a statement is in flight: knex's ROLLBACK then fails on the dead socket,
          // and that is the error the transaction rejects with.
          setTimeout(() => void pg.stopServer(), 300);
          await trx.raw('SELECT pg_sleep(30)');
        }),
      );
      assert.match(String(err), /ROLLBACK - Connection terminated unexpectedly/);
      assert.equal(failureKind(err), 'outage', String(err));
    } finally {
      await knex.destroy();
    }
  });

  it('a statement timeout (57014)', async () => {
    const knex = createKnex({ databaseUrl: TEST_DATABASE_URL, dataDir: '' });
    try {
      const timedOut = await errorOf(() =>
        knex.transaction(async (trx) => {
          await trx.raw('SET LOCAL statement_timeout = 50');
          await trx.raw('SELECT pg_sleep(5)');
        }),
      );
      assert.equal((timedOut as { code?: string }).code, '57014', String(timedOut));
      assert.equal(failureKind(timedOut), 'outage');
    } finally {
      await knex.destroy();
    }
  });

  it('Redis gone while publishing', async () => {
    const redis = new Redis({ port: await closedPort(), host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => undefined);
    const err = await errorOf(() => redis.publish('x', 'y'));
    redis.disconnect();
    assert.equal(failureKind(err), 'outage', String(err));
  });
});
