import type { Knex } from 'knex';

/** A compiled language's compile step ({stdout, stderr, exitCode, durationMs}); null for the others. */
export const name = '0002-compile-result';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.jsonb('compile');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.dropColumn('compile');
  });
}
