import type { Knex } from 'knex';

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
}
