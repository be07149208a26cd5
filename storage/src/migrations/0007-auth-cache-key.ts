import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * The key that binds the gateways' Redis cache entries to this database (issue 12): one row,
 * a random secret made here, at migration. Gateways MAC every identity they cache in Redis with
 * it and verify on every read, so whatever else can write Redis (an agent, a second platform on
 * the same Redis with another database) cannot make an API key resolve to a user or role.
 *
 * Only the table's owner (the gateway's database role, which runs the migrations) may read it:
 * PUBLIC gets nothing, so a read-only role granted for reporting never sees the key.
 */
export const name = '0007-auth-cache-key';

export const AUTH_CACHE_KEY_TABLE = 'auth_cache_key';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable(AUTH_CACHE_KEY_TABLE, (t) => {
    // A one-row table: the primary key can only be true.
    t.boolean('id').primary().defaultTo(true);
    t.text('secret').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE ?? ADD CONSTRAINT auth_cache_key_one_row CHECK (id)', [AUTH_CACHE_KEY_TABLE]);
  await knex.raw('REVOKE ALL ON TABLE ?? FROM PUBLIC', [AUTH_CACHE_KEY_TABLE]);
  await knex(AUTH_CACHE_KEY_TABLE).insert({ id: true, secret: randomBytes(32).toString('base64url') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists(AUTH_CACHE_KEY_TABLE);
}
