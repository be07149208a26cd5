import type { Role } from '@crucible/storage';

/** Who a request acts as, after authentication. `userId` is also the owner of what they create. */
export interface Principal {
  userId: string;
  role: Role;
  /** The API key used, directly or through the JWT it was exchanged for: the rate-limit identity. */
  keyId: string;
  via: 'key' | 'jwt';
}

/**
 * Why a credential was refused; also the `reason` label of crucible_auth_failures_total, so the
 * set stays small and never carries anything a client sent.
 */
export const AUTH_FAILURE_REASONS = [
  'missing',
  'malformed',
  'invalid_key',
  'revoked_key',
  'invalid_token',
  'expired_token',
  'invalid_refresh',
  'refresh_reuse',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export class AuthFailure extends Error {
  constructor(readonly reason: AuthFailureReason, message: string) {
    super(message);
    this.name = 'AuthFailure';
  }
}
