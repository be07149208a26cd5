import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MIGRATIONS, openStorage, type Storage } from '../src/index.js';
import { BACKENDS } from './backends.js';

const EVALUATION = {
  owner: 'alice',
  language: 'python',
  runtime: 'container',
  priority: 'normal',
  files: [{ name: 'main.py', content: 'print(1)', encoding: 'utf8' }],
  stdin: '',
  args: [],
  limits: { timeoutMs: 1000, memoryMb: 64, cpus: 1, pids: 16, outputBytes: 1024 },
  metadata: {},
} as const;

async function tableNames(storage: Storage): Promise<string[]> {
  const result = await storage.knex.raw<{ rows: { table_name: string }[] }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name',
  );
  return result.rows.map((row) => row.table_name);
}

for (const makeBackend of BACKENDS) {
  const backend = makeBackend();

  describe(`migrations (${backend.name})`, () => {
    after(() => backend.cleanup());

    it('creates the tables and records every migration once', async () => {
      const storage = await backend.open();
      try {
        const tables = await tableNames(storage);
        for (const table of ['evaluations', 'evaluation_events', 'knex_migrations']) assert.ok(tables.includes(table), table);
        const applied = await storage.knex('knex_migrations').select('name').orderBy('id');
        assert.deepEqual(
          applied.map((row: { name: string }) => row.name),
          MIGRATIONS.map((m) => m.name),
        );
        await storage.ping();
      } finally {
        await storage.close();
      }
    });

    it('is a no-op when reopened, and keeps the data (PGlite: persisted in its folder)', async () => {
      const first = await backend.open();
      const created = await first.evaluations.create({ ...EVALUATION, files: [...EVALUATION.files], args: [] });
      await first.evaluations.appendEvent(created.id, 'stdout', { chunk: 'hello' });
      await first.close();

      const second = await backend.open();
      try {
        assert.deepEqual(await second.evaluations.get(created.id), created);
        assert.deepEqual(
          (await second.evaluations.events(created.id)).map((e) => e.seq),
          [1, 2],
        );
        const applied = await second.knex('knex_migrations').count<{ count: string | number }[]>('* as count');
        assert.equal(Number(applied[0]!.count), MIGRATIONS.length);
      } finally {
        await second.close();
      }
    });

    it('rejects rows that bypass the state machine vocabulary', async () => {
      const storage = await backend.open();
      try {
        const { id } = await storage.evaluations.create({ ...EVALUATION, files: [...EVALUATION.files], args: [] });
        await assert.rejects(storage.knex('evaluations').where('id', id).update({ status: 'exploded' }), /check/i);
        await assert.rejects(storage.knex('evaluations').where('id', id).update({ outcome: 'meh' }), /check/i);
      } finally {
        await storage.close();
      }
    });

    it('deletes an evaluation together with its events', async () => {
      const storage = await backend.open();
      try {
        const { id } = await storage.evaluations.create({ ...EVALUATION, files: [...EVALUATION.files], args: [] });
        await storage.evaluations.appendEvent(id, 'stderr', { chunk: 'x' });
        await storage.knex('evaluations').where('id', id).delete();
        assert.deepEqual(await storage.evaluations.events(id), []);
      } finally {
        await storage.close();
      }
    });

    it('closes idempotently and through Symbol.asyncDispose', async () => {
      const storage = await backend.open();
      await storage[Symbol.asyncDispose]();
      await storage.close();
    });
  });
}

describe('migrations (postgres, several processes starting at once)', () => {
  const backend = BACKENDS[0]!();
  assert.equal(backend.name, 'postgres');
  after(() => backend.cleanup());

  it('lets every starter through against a fresh schema, applying each migration once', async () => {
    // Separate knex pools stand in for separate processes: each has its own connections.
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => openStorage(backend.options)));
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      assert.deepEqual(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
        [],
      );
      const storage = opened[0]!;
      const applied = await storage.knex('knex_migrations').select('name');
      assert.equal(applied.length, MIGRATIONS.length);
      const locks = await storage.knex('knex_migrations_lock').select('*');
      assert.deepEqual(locks.map((row: { is_locked: number }) => row.is_locked), [0]);
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
  });
});
