import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ROLES, type Role, type UserRepository } from '@crucible/storage';
import { authCacheRejected } from '../metrics.js';
import { KEY_FORMAT, KEY_PREFIX, displayPrefix, fingerprint, verifyKey } from './api-keys.js';
import type { CacheSeal } from './cache-seal.js';
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
  /** Seals the key cache's entries: only this platform's gateways can write one that is believed. */
  seal: CacheSeal;
  log?: Logger;
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
    const cached = await this.cachedKey(keys.keyCache(prefix));
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
    const sealed = await this.deps.seal.seal(keys.keyCache(prefix), entry, KEY_CACHE_SECONDS).catch(() => undefined);
    if (sealed) await soft(() => redis.set(keys.keyCache(prefix), sealed, 'EX', KEY_CACHE_SECONDS));
    return { userId: found.user.id, role: found.user.role, keyId: found.key.id, via: 'key' };
  }

  /**
   * The cache entry under `redisKey` when this platform's gateways sealed it; anything else there
   * (forged, moved from another key, from another platform on the same Redis, from before the
   * seal existed) is a miss, counted and logged, and storage decides.
   */
  private async cachedKey(redisKey: string): Promise<CachedKey | undefined> {
    const text = await soft(() => this.deps.redis.get(redisKey));
    const opened = await this.deps.seal.open(redisKey, text).catch(() => undefined);
    if (!opened) return undefined;
    const entry = 'value' in opened ? parseCached(opened.value) : undefined;
    if (!entry) {
      authCacheRejected.inc({ cache: 'api_key' });
      this.deps.log?.warn({ redisKey }, 'ignored an API-key cache entry this platform did not seal');
    }
    return entry;
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

function parseCached(v: unknown): CachedKey | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Partial<CachedKey>;
  return typeof c.fp === 'string' && typeof c.keyId === 'string' && typeof c.userId === 'string' && ROLES.includes(c.role as Role) ? (c as CachedKey) : undefined;
}
