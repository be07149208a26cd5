import type { Redis } from 'ioredis';
import type { ApiKeyRecord, RefreshTokenRepository, Role, User, UserRepository } from '@crucible/storage';
import { displayPrefix, generateKey, hashKey } from './api-keys.js';
import { KEY_CACHE_SECONDS } from './authenticator.js';
import { AuthFailure, type Principal } from './principal.js';
import type { GatewayKeys } from './redis-keys.js';
import { refreshHash, type TokenIssuer } from './tokens.js';

export interface IssuedKey {
  record: ApiKeyRecord;
  /** The key itself: shown once, never stored. */
  key: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

export interface AccountDeps {
  users: UserRepository;
  refreshTokens: RefreshTokenRepository;
  /** Absent in the admin CLI when Redis is unreachable; revocation then relies on the cache TTL. */
  redis: Redis | undefined;
  keys: GatewayKeys;
  tokens: TokenIssuer | undefined;
  /** How long access tokens live: a revocation marker must outlive every token of the key. */
  accessTtlSeconds: number;
}

/** Users, keys and token exchange: the use cases behind /v1/users, /v1/keys, /v1/auth and `crucible admin`. */
export class Accounts {
  constructor(private readonly deps: AccountDeps) {}

  createUser(name: string, role: Role): Promise<User> {
    return this.deps.users.create({ name, role });
  }

  /** A new key for `userId`; `key` (given only for CRUCIBLE_ADMIN_KEY) else a random one. */
  async createKey(userId: string, key = generateKey()): Promise<IssuedKey> {
    const record = await this.deps.users.addKey({ userId, prefix: displayPrefix(key), hash: await hashKey(key) });
    return { record, key };
  }

  /**
   * Revokes a key everywhere at once: storage (and its refresh-token families), then a Redis
   * marker every gateway checks before trusting a cached key or an access token made from it.
   */
  async revokeKey(id: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.deps.users.revokeKey(id);
    if (record && this.deps.redis) {
      const ttl = Math.max(KEY_CACHE_SECONDS, this.deps.accessTtlSeconds) + 60;
      await this.deps.redis.multi().set(this.deps.keys.revokedKey(id), '1', 'EX', ttl).del(this.deps.keys.keyCache(record.prefix)).exec();
    }
    return record;
  }

  /** `POST /v1/auth/token`: a fresh access token and the first refresh token of a new family. */
  async exchange(principal: Principal): Promise<TokenPair> {
    return this.pair(principal);
  }

  /** `POST /v1/auth/refresh`: spends the refresh token once and returns a new pair in its family. */
  async refresh(token: string): Promise<{ pair: TokenPair; principal: Principal }> {
    const spent = await this.deps.refreshTokens.spend(refreshHash(token));
    if (spent.kind === 'unknown') throw new AuthFailure('invalid_refresh', 'the refresh token is invalid');
    if (spent.kind === 'reused') throw new AuthFailure('refresh_reuse', 'the refresh token was already used; its whole family is now revoked');
    if (spent.kind === 'expired') throw new AuthFailure('invalid_refresh', 'the refresh token has expired; exchange an API key again');
    const live = await this.deps.users.getKey(spent.token.keyId);
    const user = await this.deps.users.get(spent.token.userId);
    if (!live || live.revokedAt !== null || !user) throw new AuthFailure('revoked_key', 'the API key behind this refresh token was revoked');
    const principal: Principal = { userId: user.id, role: user.role, keyId: live.id, via: 'jwt' };
    return { pair: await this.pair(principal, spent.token.familyId), principal };
  }

  private async pair(principal: Principal, familyId?: string): Promise<TokenPair> {
    const tokens = this.deps.tokens;
    if (!tokens) throw new Error('token issuing is not configured');
    const refresh = tokens.newRefreshToken();
    await this.deps.refreshTokens.issue({ hash: refresh.hash, userId: principal.userId, keyId: principal.keyId, familyId, expiresAt: refresh.expiresAt });
    return { accessToken: await tokens.issueAccess(principal), refreshToken: refresh.token, expiresIn: tokens.accessTtlSeconds, tokenType: 'Bearer' };
  }
}
