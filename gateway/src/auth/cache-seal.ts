import { createHmac, timingSafeEqual } from 'node:crypto';

/** How a sealed value is kept in Redis: the value, when it stops being valid, and the MAC over both. */
interface Sealed {
  v: unknown;
  exp: number;
  mac: string;
}

/**
 * Seals identity-bearing values the gateway keeps in Redis (issue 12): an HMAC-SHA256, with a key
 * only gateways hold (kept in their PostgreSQL database: migration 0007), over the Redis key the
 * value is stored under, the value and its expiry. `open` returns the value only when the MAC
 * verifies (compared in constant time) and it has not expired, so anything else that can write
 * Redis (an agent; a second platform sharing the Redis but not the database) cannot mint an
 * identity, move an entry to another key, or replay an old one past its lifetime.
 */
export class CacheSeal {
  private key: Promise<Buffer> | undefined;

  /** `loadKey` is called once, on first use (the key lives in the database). */
  constructor(private readonly loadKey: () => Promise<string>) {}

  async seal(redisKey: string, value: unknown, ttlSeconds: number, now = Date.now()): Promise<string> {
    const exp = now + ttlSeconds * 1000;
    return JSON.stringify({ v: value, exp, mac: this.mac(await this.secret(), redisKey, value, exp) } satisfies Sealed);
  }

  /** The sealed value, or `{ rejected: true }` when something is there that this gateway did not seal. */
  async open(redisKey: string, text: string | null | undefined, now = Date.now()): Promise<{ value: unknown } | { rejected: true } | undefined> {
    if (!text) return undefined;
    let sealed: Partial<Sealed>;
    try {
      sealed = JSON.parse(text) as Partial<Sealed>;
    } catch {
      return { rejected: true };
    }
    if (typeof sealed !== 'object' || sealed === null || typeof sealed.mac !== 'string' || typeof sealed.exp !== 'number') return { rejected: true };
    const expected = Buffer.from(this.mac(await this.secret(), redisKey, sealed.v, sealed.exp), 'base64url');
    const given = Buffer.from(sealed.mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { rejected: true };
    // Sealed by us, so not forged; expired entries are merely stale (Redis's TTL normally wins).
    if (sealed.exp <= now) return undefined;
    return { value: sealed.v };
  }

  private mac(secret: Buffer, redisKey: string, value: unknown, exp: number): string {
    // Length-prefixed parts: no two different (key, value, exp) triples share an input.
    const parts = [redisKey, JSON.stringify(value) ?? 'undefined', String(exp)];
    const h = createHmac('sha256', secret);
    for (const part of parts) h.update(`${Buffer.byteLength(part)}:${part};`);
    return h.digest('base64url');
  }

  private secret(): Promise<Buffer> {
    this.key ??= this.loadKey().then((k) => Buffer.from(k, 'utf8'));
    // A failed load (database away) is retried on the next use rather than remembered.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
