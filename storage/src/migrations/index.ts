import type { Knex } from 'knex';
import * as evaluations from './0001-evaluations.js';
import * as auth from './0002-auth.js';
import * as queue from './0003-queue.js';
import * as sandboxFields from './0004-sandbox-fields.js';
import * as overdueIndexes from './0005-overdue-indexes.js';
import * as outputBytes from './0006-output-bytes.js';
import * as authCacheKey from './0007-auth-cache-key.js';
import * as pidsLimitHit from './0008-pids-limit-hit.js';

/** One migration: a stable name (recorded in `knex_migrations`) and its steps. */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Every migration, in order. Append only; never rename or reorder, since the names are what
 * knex records as applied. Imported statically rather than found on disk by knex, so the same list
 * works from `src/` under tsx and from `dist/`, and a bundler cannot lose a file.
 */
export const MIGRATIONS: readonly Migration[] = [evaluations, auth, queue, sandboxFields, overdueIndexes, outputBytes, authCacheKey, pidsLimitHit];

/** A knex migration source over {@link MIGRATIONS}. */
export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (migration) => migration.name,
  getMigration: async (migration) => migration,
};

// Arbitrary but fixed: the key of the PostgreSQL advisory lock that serialises migrations.
const MIGRATION_LOCK_KEY = 0x6372_7563; // "cruc"

/**
 * Brings the schema up to date. Safe when several processes start at once against PostgreSQL:
 * knex's own lock row fails the loser ("Migration table is already locked") instead of waiting,
 * and two processes creating `knex_migrations` on a fresh database can collide outright. So on
 * PostgreSQL a transaction-scoped advisory lock is held for the whole run; the second process
 * waits on it, then finds nothing left to do. PGlite is one in-process connection, so there is
 * nobody to race with (and holding a second connection would deadlock its one-slot pool).
 */
export async function migrateToLatest(knex: Knex, options: { postgres: boolean; schema?: string | undefined }): Promise<void> {
  const { schema } = options;
  if (!options.postgres) {
    if (schema) await knex.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
    await knex.migrate.latest({ migrationSource });
    return;
  }
  // Keyed on the schema name too, so separate schemas (e.g. parallel test runs) don't wait for each other.
  const underLock = (work: (trx: Knex.Transaction) => Promise<unknown>) =>
    knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [MIGRATION_LOCK_KEY, schema ?? '']);
      await work(trx);
    });
  // The schema must be committed before migrating: knex runs the migrations on other pool connections.
  if (schema) await underLock((trx) => trx.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]));
  await underLock(() => knex.migrate.latest({ migrationSource }));
}
