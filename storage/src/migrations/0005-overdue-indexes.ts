import type { Knex } from 'knex';

/**
 * Indexes for the scheduler's backstop (overdue sweeper, issue 12): finding provisioning or
 * running evaluations by when they entered that status (`updated_at`: every status change stamps
 * it, nothing else writes the row meanwhile), and the oldest unfinished evaluation per status for
 * the `crucible_oldest_unfinished_evaluation_age_seconds` gauge (one index probe per status).
 * Partial, like the reconciler's index: only the few unfinished rows are indexed.
 */
export const name = '0005-overdue-indexes';

export async function up(knex: Knex): Promise<void> {
  await knex.raw("CREATE INDEX evaluations_active_since_idx ON evaluations (updated_at) WHERE status IN ('provisioning', 'running')");
  await knex.raw(
    "CREATE INDEX evaluations_unfinished_age_idx ON evaluations (status, created_at) WHERE status IN ('queued', 'provisioning', 'running')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS evaluations_unfinished_age_idx');
  await knex.raw('DROP INDEX IF EXISTS evaluations_active_since_idx');
}
