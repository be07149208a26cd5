import type { Redis } from 'ioredis';
import { soft } from './soft-redis.js';

/** One token bucket: `burst` tokens at most, refilled at `perSecond`. */
export interface BucketPolicy {
  burst: number;
  perSecond: number;
}

/** The separate budgets: submissions and reads per key, and failed authentications per client address. */
export const BUDGETS = ['submit', 'read', 'auth'] as const;
export type Budget = (typeof BUDGETS)[number];
/** Every reason a request is answered 429: a token budget, or the per-user cap on unfinished evaluations. */
export const RATE_LIMIT_REASONS = [...BUDGETS, 'concurrency'] as const;

export type RateLimitPolicies = Record<Budget, BucketPolicy>;

export interface Decision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: ms until the request would be allowed. */
  retryAfterMs: number;
}

/**
 * Takes `cost` tokens from a bucket, atomically. The clock is Redis's own (TIME), so every gateway
 * shares one. Scripts calling TIME are safe to replicate since Redis 5 (effects replication).
 *
 * KEYS[1] the bucket: hash {tokens, at (ms)}
 * ARGV[1] burst, ARGV[2] refill per second, ARGV[3] cost
 * returns {allowed 0|1, whole tokens left, ms until `cost` tokens exist (0 when allowed)}
 */
const TAKE = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, math.floor(tokens), wait}
`;

interface Commands {
  crucibleTakeTokens?(key: string, burst: number, rate: number, cost: number): Promise<[number, number, number]>;
}

/** Token buckets in Redis, one per (budget, identity). */
export class RateLimiter {
  private readonly redis: Commands;

  constructor(redis: Redis, readonly policies: RateLimitPolicies, private readonly keyOf: (budget: Budget, id: string) => string) {
    // defineCommand runs the script by EVALSHA, loading it once per connection.
    if (!(redis as unknown as Commands).crucibleTakeTokens) redis.defineCommand('crucibleTakeTokens', { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as unknown as Commands;
  }

  /**
   * Takes tokens; when Redis does not answer the request is allowed (and logged by the caller):
   * limits protect capacity, and refusing everything while Redis is away would be a worse outage.
   */
  async take(budget: Budget, id: string, cost = 1): Promise<Decision | undefined> {
    const p = this.policies[budget];
    const result = await soft(() => this.redis.crucibleTakeTokens!(this.keyOf(budget, id), p.burst, p.perSecond, Math.min(cost, p.burst)));
    if (!result) return undefined;
    const [allowed, remaining, wait] = result;
    return { allowed: allowed === 1, remaining, retryAfterMs: wait };
  }

  /** `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): the quota and the window it refills in. */
  policyHeader(budget: Budget): string {
    const p = this.policies[budget];
    return `"${budget}";q=${p.burst};w=${Math.max(1, Math.ceil(p.burst / p.perSecond))}`;
  }

  /** `RateLimit`: what is left and the seconds until the bucket is full again. */
  stateHeader(budget: Budget, d: Decision): string {
    const p = this.policies[budget];
    return `"${budget}";r=${d.remaining};t=${Math.ceil((p.burst - d.remaining) / p.perSecond)}`;
  }
}
