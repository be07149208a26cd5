import type { Limits } from './types.js';

export const LIMIT_KEYS = ['timeoutMs', 'memoryMb', 'cpus', 'pids', 'outputBytes'] as const;

/** Server-wide ceilings; a request may only tighten them. */
export const DEFAULT_MAX_LIMITS: Readonly<Limits> = Object.freeze({
  timeoutMs: 30_000,
  memoryMb: 512,
  cpus: 1,
  pids: 64,
  outputBytes: 1_048_576,
});

/** What a request gets when it asks for nothing. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  timeoutMs: 10_000,
  memoryMb: 256,
  cpus: 1,
  pids: 64,
  outputBytes: 1_048_576,
});

export class LimitExceededError extends Error {
  constructor(
    readonly field: keyof Limits,
    readonly requested: number,
    readonly maximum: number,
  ) {
    super(`limits.${field} ${requested} exceeds the maximum ${maximum}`);
  }
}

/**
 * Resolves effective limits with explicit precedence: request ≤ runtime ≤ server maximum.
 * A value above the applicable maximum is an error rather than silently clamped, so a caller
 * never believes it got more than it did.
 */
export function resolveLimits(
  requested: Partial<Limits> | undefined,
  runtimeDefaults: Partial<Limits> = {},
  serverMax: Readonly<Limits> = DEFAULT_MAX_LIMITS,
  serverDefaults: Readonly<Limits> = DEFAULT_LIMITS,
): Limits {
  const out = {} as Limits;
  for (const key of LIMIT_KEYS) {
    const max = Math.min(serverMax[key], runtimeDefaults[key] ?? Infinity);
    const want = requested?.[key];
    if (want !== undefined && want > max) throw new LimitExceededError(key, want, max);
    out[key] = want ?? Math.min(serverDefaults[key], max);
  }
  return out;
}
