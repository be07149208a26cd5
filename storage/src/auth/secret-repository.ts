import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { AUTH_CACHE_KEY_TABLE } from '../migrations/0007-auth-cache-key.js';

/** Secrets the server makes for itself once (e.g. the local JWT signing key), shared by every gateway. */
export class SecretRepository {
  constructor(private readonly knex: Knex) {}

  /**
   * Returns the secret `name`, storing `make()` first when there is none. Concurrent first starts
   * agree on one value: the insert is a no-op for all but the first.
   */
  async getOrCreate(name: string, make: () => string): Promise<string> {
    await this.knex('server_secrets').insert({ name, value: make() }).onConflict('name').ignore();
    const row = (await this.knex('server_secrets').where({ name }).first()) as { value: string };
    return row.value;
  }

  /**
   * The key gateways seal their Redis cache entries with (migration 0007 makes it). Made again at
   * first use should the row be gone, so a database restored without it still works; concurrent
   * makers agree on the first.
   */
  async authCacheKey(): Promise<string> {
    const row = (await this.knex(AUTH_CACHE_KEY_TABLE).where({ id: true }).first('secret')) as { secret: string } | undefined;
    if (row) return row.secret;
    await this.knex(AUTH_CACHE_KEY_TABLE).insert({ id: true, secret: randomBytes(32).toString('base64url') }).onConflict('id').ignore();
    return ((await this.knex(AUTH_CACHE_KEY_TABLE).where({ id: true }).first('secret')) as { secret: string }).secret;
  }
}
