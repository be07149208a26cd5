import { mkdirSync } from 'node:fs';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';

/** Where the data lives: PostgreSQL when `databaseUrl` is set, otherwise embedded PGlite in `dataDir`. */
export interface ConnectOptions {
  /** A `postgres://` URL; when absent, an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Folder that persists the PGlite database; created when missing. Unused with `databaseUrl`. */
  dataDir: string;
  /**
   * PostgreSQL schema to put every table in (search_path). Lets tests, or several
   * deployments sharing one database, stay apart. Created by `openStorage` if missing.
   */
  schema?: string | undefined;
}

/**
 * Creates a knex instance for either backend. Nothing is queried yet: the pool connects lazily.
 * Both backends speak the PostgreSQL dialect, so every query above this line is shared.
 */
export function createKnex(options: ConnectOptions): Knex {
  const searchPath = options.schema ? [options.schema] : undefined;
  if (options.databaseUrl) {
    return knexFactory({
      client: 'pg',
      connection: options.databaseUrl,
      searchPath,
      // min 0: an idle process (a CLI, a test) keeps no connection open.
      pool: { min: 0, max: 10 },
    });
  }
  mkdirSync(options.dataDir, { recursive: true });
  // PGlite is one in-process connection. knex-pglite pins the pool to {min: 1, max: 1} itself and
  // throws if a `pool` is passed, so none is given here. Consequence for callers: inside a
  // transaction use only the transaction object, never the outer knex (it would wait forever).
  return knexFactory({
    client: ClientPgLite,
    dialect: 'postgres',
    connection: { filename: options.dataDir },
    searchPath,
  });
}
