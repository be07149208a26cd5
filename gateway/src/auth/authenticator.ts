import type { Redis } from 'ioredis';
import { ROLES, type Role, type UserRepository } from '@crucible/storage';
import { KEY_FORMAT, KEY_PREFIX, displayPrefix, fingerprint, verifyKey } from './api-keys.js';
import { AuthFailure, type Principal } from './principal.js';
import type { GatewayKeys } from './redis-keys.js';
import { soft } from './soft-redis.js';
import type { TokenIssuer } from './tokens.js';

/** How long a verified API key is remembered in Redis, so scrypt runs once per key per period. */
export const KEY_CACHE_SECONDS = 300;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

interface CachedKey {
  fp: string;
  keyId: string;
  userId: string;
  role: Role;
}

export interface AuthenticatorDeps {
  users: UserRepository;
  redis: Redis;
  keys: GatewayKeys;
  tokens: TokenIssuer;
}

/** Turns a `Bearer` credential (an API key or a JWT access token) into a Principal, or throws AuthFailure. */
export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  async authenticate(authorization: string): Promise<Principal> {
    if (!authorization) throw new AuthFailure('missing', 'send Authorization: Bearer <API key or access token>');
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(authorization.trim());
    if (!match) throw new AuthFailure('malformed', 'the Authorization header must be "Bearer <token>"');
    const credential = match[1]!;
    if (credential.startsWith(KEY_PREFIX)) return this.apiKey(credential);
    if (JWT_SHAPE.test(credential)) return this.accessToken(credential);
    throw new AuthFailure('malformed', 'the bearer token is neither an API key nor an access token');
  }

  /**
   * Checks an API key against the Redis cache, else storage (scrypt). A revocation wins either way:
   * the marker is checked on every use, and storage is the fallback when Redis is away.
   */
  async apiKey(key: string): Promise<Principal> {
    if (!KEY_FORMAT.test(key)) throw new AuthFailure('invalid_key', 'the API key is invalid');
    const { redis, keys, users } = this.deps;
    const prefix = displayPrefix(key);
    const fp = fingerprint(key);
    const cached = parseCached(await soft(() => redis.get(keys.keyCache(prefix))));
    if (cached && cached.fp === fp) {
      const revoked = await soft(() => redis.exists(keys.revokedKey(cached.keyId)));
      if (revoked === 0) return { userId: cached.userId, role: cached.role, keyId: cached.keyId, via: 'key' };
      if (revoked === 1) throw new AuthFailure('revoked_key', 'the API key is invalid');
      // Redis did not answer: fall through to storage, the truth.
    }
    const found = await users.findLiveKey(prefix);
    if (!found || !(await verifyKey(key, found.key.hash))) throw new AuthFailure('invalid_key', 'the API key is invalid');
    // Re-checked after the slow hash: a revocation that landed meanwhile must win over this cache write.
    if (await soft(() => redis.exists(keys.revokedKey(found.key.id)))) throw new AuthFailure('revoked_key', 'the API key is invalid');
    const entry: CachedKey = { fp, keyId: found.key.id, userId: found.user.id, role: found.user.role };
    await soft(() => redis.set(keys.keyCache(prefix), JSON.stringify(entry), 'EX', KEY_CACHE_SECONDS));
    return { userId: found.user.id, role: found.user.role, keyId: found.key.id, via: 'key' };
  }

  /** Verifies a JWT and refuses it when the key it was exchanged for has been revoked since. */
  async accessToken(token: string): Promise<Principal> {
    const principal = await this.deps.tokens.verifyAccess(token);
    const { redis, keys, users } = this.deps;
    const marker = await soft(() => redis.exists(keys.revokedKey(principal.keyId)));
    let revoked = marker === 1;
    if (marker === undefined) {
      // Redis did not answer, so the marker could not be read: ask storage, the truth.
      const key = await users.getKey(principal.keyId);
      revoked = !key || key.revokedAt !== null;
    }
    if (revoked) throw new AuthFailure('revoked_key', 'the access token was issued for a revoked API key');
    return principal;
  }
}

function parseCached(json: string | null | undefined): CachedKey | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as CachedKey;
    return typeof v.fp === 'string' && ROLES.includes(v.role) ? v : undefined;
  } catch {
    return undefined;
  }
}
