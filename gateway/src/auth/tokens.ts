import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { ROLES, type Role } from '@crucible/storage';
import { AuthFailure, type Principal } from './principal.js';

/**
 * JWT access tokens (HS256, pinned) and opaque refresh tokens. The algorithm is fixed on both sides:
 * a token whose header says anything else (`none`, RS256 with our secret as a "public key", ...)
 * is refused before its signature is even considered.
 */
const ALGORITHM = 'HS256';
const ISSUER = 'crucible';
const AUDIENCE = 'crucible-api';
export const REFRESH_PREFIX = 'crr_';

export interface TokenConfig {
  /** At least 32 bytes. */
  secret: Uint8Array;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export class TokenIssuer {
  constructor(private readonly config: TokenConfig) {
    if (config.secret.length < 32) throw new Error('the JWT signing key must be at least 32 bytes');
  }

  get accessTtlSeconds(): number {
    return this.config.accessTtlSeconds;
  }

  get refreshTtlSeconds(): number {
    return this.config.refreshTtlSeconds;
  }

  async issueAccess(p: Pick<Principal, 'userId' | 'role' | 'keyId'>): Promise<string> {
    return new SignJWT({ role: p.role, key: p.keyId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(p.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.config.accessTtlSeconds}s`)
      .sign(this.config.secret);
  }

  /** The principal an access token stands for; throws AuthFailure for anything not issued by us and current. */
  async verifyAccess(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.config.secret, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 5,
      });
      const { sub, role, key } = payload as { sub?: unknown; role?: unknown; key?: unknown };
      if (typeof sub !== 'string' || typeof key !== 'string' || !ROLES.includes(role as Role)) {
        throw new AuthFailure('invalid_token', 'the access token is invalid');
      }
      return { userId: sub, role: role as Role, keyId: key, via: 'jwt' };
    } catch (err) {
      if (err instanceof AuthFailure) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AuthFailure('expired_token', 'the access token has expired; refresh it');
      throw new AuthFailure('invalid_token', 'the access token is invalid');
    }
  }

  /** A new opaque refresh token and the hash to store (only the hash is kept). */
  newRefreshToken(): { token: string; hash: string; expiresAt: Date } {
    const token = REFRESH_PREFIX + randomBytes(32).toString('base64url');
    return { token, hash: refreshHash(token), expiresAt: new Date(Date.now() + this.config.refreshTtlSeconds * 1000) };
  }
}

export function refreshHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A fresh signing key for local mode (persisted by the caller). */
export function generateSigningKey(): string {
  return randomBytes(48).toString('base64url');
}
