/**
 * Redis keys only the gateway uses (agents' ACL user cannot reach them; scheduler/README.md lists
 * every key). The auth cache and revocation markers are shared by every gateway, so a revocation
 * anywhere takes effect everywhere at once.
 */
export function gatewayKeys(prefix: string) {
  return Object.freeze({
    /** JSON {fp, keyId, userId, role} of a verified API key, by its display prefix; short TTL. */
    keyCache: (displayPrefix: string) => `${prefix}:auth:key:${displayPrefix}`,
    /** Set when a key is revoked; refuses its cached entry and the access tokens issued from it. */
    revokedKey: (keyId: string) => `${prefix}:auth:revoked:${keyId}`,
    /** Token bucket (hash: tokens, at) of one budget and one identity (key id, or ip for `auth`). */
    rateLimit: (budget: string, id: string) => `${prefix}:ratelimit:${budget}:${id}`,
    /** Everything above, for the gateway's ACL rule. */
    pattern: `${prefix}:auth:*`,
    rateLimitPattern: `${prefix}:ratelimit:*`,
  });
}

export type GatewayKeys = ReturnType<typeof gatewayKeys>;
