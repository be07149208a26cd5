import type { Knex } from 'knex';

/**
 * Sandbox fields of an evaluation: `compile`, a compiled language's compile step ({stdout,
 * stderr, exitCode, durationMs}; null for the others), and `container_runtime`, the engine
 * runtime (runc or runsc) the request asked for (null: the agent's or language's default).
 */
export const name = '0004-sandbox-fields';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.jsonb('compile');
    t.text('container_runtime');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.dropColumn('compile');
    t.dropColumn('container_runtime');
  });
}
