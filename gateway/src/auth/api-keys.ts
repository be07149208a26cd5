import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * API keys: `crk_` + 43 base64url characters (256 random bits). The first 12 characters are the
 * key's public prefix: shown to people to tell keys apart, and the index it is looked up by. Only a
 * salted scrypt hash of the whole key is stored, so a leaked database does not yield working keys.
 */
export const KEY_PREFIX = 'crk_';
export const DISPLAY_PREFIX_LENGTH = 12;
/** What a key looks like. An operator-chosen CRUCIBLE_ADMIN_KEY must match it too (≥ 16 characters of secret). */
export const KEY_FORMAT = /^crk_[A-Za-z0-9_-]{16,128}$/;

// N=2^14, r=8: ~50 ms and 16 MiB per hash. Verification happens once per key per cache lifetime
// (authenticator.ts), not once per request, so the cost falls on guessing, not on use.
const SCRYPT: ScryptOptions = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const HASH_BYTES = 32;

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** `scrypt$N$r$p$salt$hash`, so parameters can be raised later without breaking stored keys. */
export async function hashKey(key: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(key, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyKey(key: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(key, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A fast fingerprint of a key for the short-lived auth cache (never stored in the database). */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

function derive(key: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(key, salt, HASH_BYTES, options, (err, out) => (err ? reject(err) : resolve(out))));
}
