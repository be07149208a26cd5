import type { SecretRepository, UserRepository } from '@crucible/storage';
import type { Accounts } from './accounts.js';
import { generateSigningKey } from './tokens.js';

/**
 * First start (no users yet): creates the `admin` user with `adminKey` (CRUCIBLE_ADMIN_KEY) as its
 * key, or with a generated one that is returned so the caller prints it, once. Later starts change
 * nothing, so a CRUCIBLE_ADMIN_KEY left in the environment cannot re-create an admin after its key
 * was revoked. Concurrent first starts on one database: the loser's insert fails on the key's
 * unique prefix or leaves a second admin; both are harmless and visible in the audit log.
 */
export async function ensureInitialAdmin(users: UserRepository, accounts: Accounts, adminKey: string | undefined): Promise<{ generatedKey?: string; created: boolean }> {
  if ((await users.count()) > 0) return { created: false };
  const user = await accounts.createUser('admin', 'admin');
  const issued = await accounts.createKey(user.id, adminKey);
  return { created: true, generatedKey: adminKey ? undefined : issued.key };
}

/**
 * The JWT signing key: CRUCIBLE_JWT_SECRET when configured; otherwise (local mode) one generated at
 * first start and kept in the database, so restarts and every gateway sharing it agree.
 */
export async function signingKey(configured: string | undefined, secrets: SecretRepository): Promise<Uint8Array> {
  const value = configured ?? (await secrets.getOrCreate('jwt-signing-key', generateSigningKey));
  return new TextEncoder().encode(value);
}
