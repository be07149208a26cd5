/**
 * The two backends every storage test runs against (STYLE.md §9: real components, a unique
 * namespace per run, cleaned up afterwards): real PostgreSQL in a fresh schema, and PGlite in a
 * fresh temp folder. Not a test file itself: the *.test.ts files loop over BACKENDS.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { openStorage, type ConnectOptions, type Storage } from '../src/index.js';

// Tests are an edge like main.ts: the one place here that reads the environment.
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One isolated database for one test suite. */
export interface Backend {
  readonly name: 'postgres' | 'pglite';
  readonly options: ConnectOptions;
  /** Opens (and migrates) a Storage on this backend's database; may be called more than once. */
  open(): Promise<Storage>;
  /** Drops everything this backend created. Call after closing every Storage it opened. */
  cleanup(): Promise<void>;
}

function postgres(): Backend {
  const schema = `storage_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const options: ConnectOptions = { databaseUrl: TEST_DATABASE_URL, dataDir: '', schema };
  return {
    name: 'postgres',
    options,
    open: () => openStorage(options),
    async cleanup() {
      const admin = knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
      try {
        await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      } finally {
        await admin.destroy();
      }
    },
  };
}

function pglite(): Backend {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'crucible-storage-test-')), 'pgdata');
  const options: ConnectOptions = { dataDir };
  return {
    name: 'pglite',
    options,
    open: () => openStorage(options),
    async cleanup() {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    },
  };
}

/** Factories, so each suite gets its own schema or folder. */
export const BACKENDS: readonly (() => Backend)[] = [postgres, pglite];
