import type { Knex } from 'knex';
import { createKnex, type ConnectOptions } from './connect.js';
import { DeadLetterRepository } from './dead-letter-repository.js';
import { EvaluationRepository } from './evaluation-repository.js';
import { migrateToLatest } from './migrations/index.js';
import { AuditRepository, RefreshTokenRepository, SecretRepository, UserRepository } from './auth/index.js';

/** An open, migrated database and its repositories. Close it (or `await using` it) when done. */
export interface Storage extends AsyncDisposable {
  evaluations: EvaluationRepository;
  /** Users and API keys, refresh tokens, the audit log, server secrets (gateway authentication). */
  users: UserRepository;
  refreshTokens: RefreshTokenRepository;
  audit: AuditRepository;
  secrets: SecretRepository;
  /** The dead-letter queue (evaluations the platform gave up on). */
  deadLetters: DeadLetterRepository;
  /** The underlying knex, for health checks and tests; repositories are the API. */
  knex: Knex;
  /** Resolves when the database answers a trivial query; rejects otherwise (for /readyz). */
  ping(): Promise<void>;
  /** Releases every connection; for PGlite, closes the database so its folder can be reopened. */
  close(): Promise<void>;
}

/**
 * Connects to PostgreSQL (`databaseUrl`) or to embedded PGlite in `dataDir`, and migrates the
 * schema to the latest version before returning, so a Storage is always ready to use.
 */
export async function openStorage(options: ConnectOptions): Promise<Storage> {
  const knex = createKnex(options);
  try {
    await migrateToLatest(knex, { postgres: Boolean(options.databaseUrl), schema: options.schema });
  } catch (error) {
    await knex.destroy();
    throw error;
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= knex.destroy());
  return {
    evaluations: new EvaluationRepository(knex),
    users: new UserRepository(knex),
    refreshTokens: new RefreshTokenRepository(knex),
    audit: new AuditRepository(knex),
    secrets: new SecretRepository(knex),
    deadLetters: new DeadLetterRepository(knex),
    knex,
    async ping() {
      await knex.raw('SELECT 1');
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
