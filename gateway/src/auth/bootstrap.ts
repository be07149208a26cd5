import type { SecretRepository, UserRepository } from '@crucible/storage';
import type { Accounts } from './accounts.js';
import { displayPrefix } from './api-keys.js';
import { generateSigningKey } from './tokens.js';

/**
 * First start (no users yet): creates the `admin` user with `adminKey` (CRUCIBLE_ADMIN_KEY) as its
 * key, or with a generated one that is returned so the caller prints it, once. Later starts change
 * nothing, so a CRUCIBLE_ADMIN_KEY left in the environment cannot re-create an admin after its key
 * was revoked. Concurrent first starts on one database may each create an admin (each printing
 * its own generated key); with CRUCIBLE_ADMIN_KEY the key's unique prefix keeps it to one key.
 */
export async function ensureInitialAdmin(users: UserRepository, accounts: Accounts, adminKey: string | undefined): Promise<{ generatedKey?: string; created: boolean }> {
  if ((await users.count()) > 0) return { created: false };
  const user = await accounts.createUser('admin', 'admin');
  try {
    const issued = await accounts.createKey(user.id, adminKey);
    return { created: true, generatedKey: adminKey ? undefined : issued.key };
  } catch (err) {
    // Another gateway starting at the same moment stored the same CRUCIBLE_ADMIN_KEY first (unique
    // prefix): that is the outcome wanted. The key-less user left behind can do nothing.
    if (adminKey && (await users.findLiveKey(displayPrefix(adminKey)))) return { created: false };
    throw err;
  }
}

/**
 * The JWT signing key: CRUCIBLE_JWT_SECRET when configured; otherwise (local mode) one generated at
 * first start and kept in the database, so restarts and every gateway sharing it agree.
 */
export async function signingKey(configured: string | undefined, secrets: SecretRepository): Promise<Uint8Array> {
  const value = configured ?? (await secrets.getOrCreate('jwt-signing-key', generateSigningKey));
  return new TextEncoder().encode(value);
}
