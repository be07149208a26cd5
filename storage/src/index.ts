/**
 * @crucible/storage: the domain model, the status state machine, and their persistence in
 * PostgreSQL or embedded PGlite. Other packages import only from here (or `./domain`, which loads no I/O).
 */
export * from './domain/index.js';
export { openStorage, type Storage } from './storage.js';
export { createKnex, type ConnectOptions } from './connect.js';
export {
  EvaluationRepository,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type CreateEvaluationInput,
  type EvaluationPage,
  type ListEvaluationsQuery,
  type TransitionResult,
  IDEMPOTENCY_TTL_MS,
} from './evaluation-repository.js';
export { DeadLetterRepository, type DeadLetter, type DeadLetterPage } from './dead-letter-repository.js';
export type { TransitionPatch } from './evaluation-row.js';
export { StorageInputError, type StorageInputErrorCode } from './errors.js';
export * from './auth/index.js';
export { MIGRATIONS, migrationSource, migrateToLatest, type Migration } from './migrations/index.js';
