import type { Knex } from 'knex';

/**
 * The queue's durable state (scheduler/README.md): idempotency keys and the dead-letter queue.
 * Both live in PostgreSQL, not Redis, because Redis may lose everything at any time.
 */
export const name = '0003-queue';

export async function up(knex: Knex): Promise<void> {
  // One row per (owner, key): the primary key is what makes concurrent duplicates collapse into one.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('owner').notNullable();
    t.text('key').notNullable();
    t.uuid('evaluation_id').notNullable().references('id').inTable('evaluations').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw("date_trunc('milliseconds', now())"));
    t.primary(['owner', 'key']);
  });
  // Expired keys are purged by age.
  await knex.raw('CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)');

  // An evaluation the platform gave up on. It stays listed until retried (retried_at set); the row
  // is kept afterwards as history.
  await knex.schema.createTable('dead_letters', (t) => {
    t.uuid('id').primary();
    t.uuid('evaluation_id').notNullable().references('id').inTable('evaluations').onDelete('CASCADE');
    t.text('reason').notNullable();
    t.integer('attempts').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw("date_trunc('milliseconds', now())"));
    t.timestamp('retried_at', { useTz: true });
  });
  // The open dead letters, newest first; and at most one open letter per evaluation.
  await knex.raw('CREATE INDEX dead_letters_open_idx ON dead_letters (created_at DESC, id DESC) WHERE retried_at IS NULL');
  await knex.raw('CREATE UNIQUE INDEX dead_letters_one_open_idx ON dead_letters (evaluation_id) WHERE retried_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dead_letters');
  await knex.schema.dropTableIfExists('idempotency_keys');
}
