import type { Knex } from 'knex';

/**
 * `pids_limit_hit`: the container's program ran into its `pids` limit (the kernel refused a fork,
 * read by the agent from the cgroup's pids.events). Stored so the API can show the platform's own
 * evidence that the pids limit, not only the deadline, contained a fork bomb.
 */
export const name = '0008-pids-limit-hit';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.boolean('pids_limit_hit').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('evaluations', (t) => {
    t.dropColumn('pids_limit_hit');
  });
}
