import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { ApiKeyRecord, Role, User } from './types.js';

interface UserRow {
  id: string;
  name: string;
  role: Role;
  created_at: Date | string;
}

interface KeyRow {
  id: string;
  user_id: string;
  prefix: string;
  hash: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const iso = (v: Date | string) => new Date(v).toISOString();
const toUser = (r: UserRow): User => ({ id: r.id, name: r.name, role: r.role, createdAt: iso(r.created_at) });
const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  userId: r.user_id,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: iso(r.created_at),
  revokedAt: r.revoked_at === null ? null : iso(r.revoked_at),
});

/** Users and their API keys. Keys are stored as (prefix, hash); hashing is the caller's (gateway/src/auth). */
export class UserRepository {
  constructor(private readonly knex: Knex) {}

  async create(input: { name: string; role: Role; id?: string }): Promise<User> {
    const [row] = await this.knex('users').insert({ id: input.id ?? randomUUID(), name: input.name, role: input.role }).returning('*');
    return toUser(row as UserRow);
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.knex('users').where({ id }).first();
    return row ? toUser(row as UserRow) : undefined;
  }

  async count(): Promise<number> {
    const row = (await this.knex('users').count({ n: '*' }).first()) as { n: string | number } | undefined;
    return Number(row?.n ?? 0);
  }

  async addKey(input: { userId: string; prefix: string; hash: string }): Promise<ApiKeyRecord> {
    const [row] = await this.knex('api_keys').insert({ id: randomUUID(), user_id: input.userId, prefix: input.prefix, hash: input.hash }).returning('*');
    return toKey(row as KeyRow);
  }

  /** The live (unrevoked) key with this display prefix, with its user. */
  async findLiveKey(prefix: string): Promise<{ key: ApiKeyRecord; user: User } | undefined> {
    const row = await this.knex('api_keys')
      .join('users', 'users.id', 'api_keys.user_id')
      .where('api_keys.prefix', prefix)
      .whereNull('api_keys.revoked_at')
      .first('api_keys.*', 'users.name as user_name', 'users.role as user_role', 'users.created_at as user_created_at');
    if (!row) return undefined;
    const r = row as KeyRow & { user_name: string; user_role: Role; user_created_at: Date };
    return { key: toKey(r), user: toUser({ id: r.user_id, name: r.user_name, role: r.user_role, created_at: r.user_created_at }) };
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.knex('api_keys').where({ id }).first();
    return row ? toKey(row as KeyRow) : undefined;
  }

  /**
   * Revokes a key and every refresh-token family it started, in one transaction. Returns the key
   * as it was, or undefined when there is none; revoking twice is harmless.
   */
  async revokeKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.knex.transaction(async (trx) => {
      const [row] = await trx('api_keys').where({ id }).update({ revoked_at: trx.raw('coalesce(revoked_at, now())') }).returning('*');
      if (!row) return undefined;
      await trx('refresh_tokens').where({ key_id: id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
      return toKey(row as KeyRow);
    });
  }
}
