import type { Knex } from 'knex';
import { AUDIT_OUTCOMES, ROLES } from '../auth/types.js';

/** Users, their API keys, JWT refresh tokens, the audit log and server secrets (API.md, "Auth"). */
export const name = '0002-auth';

const sqlList = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
const NOW = "date_trunc('milliseconds', now())";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.text('name').notNullable();
    t.text('role').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(NOW));
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${sqlList(ROLES)}))`);

  await knex.schema.createTable('api_keys', (t) => {
    t.uuid('id').primary();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    // The key's first characters: shown to people to tell keys apart, and the lookup index.
    // Only the scrypt hash of the whole key is stored; the key itself never is.
    t.text('prefix').notNullable().unique();
    t.text('hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(NOW));
    t.timestamp('revoked_at', { useTz: true });
    t.index(['user_id']);
  });

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary();
    // Every token issued by rotation from one sign-in shares the family; reuse revokes all of it.
    t.uuid('family_id').notNullable();
    t.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('key_id').notNullable().references('id').inTable('api_keys').onDelete('CASCADE');
    // sha256 of the token: it has 256 random bits, so a slow hash adds nothing.
    t.text('hash').notNullable().unique();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(NOW));
    t.index(['family_id']);
    t.index(['key_id']);
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.raw(NOW));
    t.text('actor');
    t.text('action').notNullable();
    t.text('target');
    t.text('outcome').notNullable();
    t.text('ip');
    t.text('request_id');
    t.jsonb('details');
  });
  await knex.raw(`ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check CHECK (outcome IN (${sqlList(AUDIT_OUTCOMES)}))`);

  // Secrets the server generates for itself on first start (the JWT signing key in local mode).
  await knex.schema.createTable('server_secrets', (t) => {
    t.text('name').primary();
    t.text('value').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.raw(NOW));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('server_secrets');
  await knex.schema.dropTableIfExists('audit_log');
  await knex.schema.dropTableIfExists('refresh_tokens');
  await knex.schema.dropTableIfExists('api_keys');
  await knex.schema.dropTableIfExists('users');
}
