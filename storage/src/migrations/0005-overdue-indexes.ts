import type { Knex } from 'knex';

/**
 * An index for the scheduler's backstop (overdue sweeper, issue 12): unfinished evaluations by
 * status and by when they entered it (`updated_at`: every status change stamps it, nothing else
 * writes the row meanwhile). Serves the sweeper's scan of provisioning/running rows past their
 * deadline and the oldest-per-status probe behind the `crucible_oldest_unfinished_evaluation_age_seconds`
 * gauge. Partial, like the reconciler's index: only the few unfinished rows are in it.
 */
export const name = '0005-overdue-indexes';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX evaluations_unfinished_since_idx ON evaluations (status, updated_at) WHERE status IN ('queued', 'provisioning', 'running')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS evaluations_unfinished_since_idx');
}
