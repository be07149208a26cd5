import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * A small property test: thousands of random request bodies (random JSON, mutated valid requests,
 * raw bytes) against every endpoint that takes a body. The property: never a 5xx, always the
 * API's error body on a 4xx. The seed is printed so a failure can be replayed (FUZZ_SEED=...).
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

/** mulberry32: small, seedable, good enough to pick shapes. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;

const NASTY_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '../../etc/passwd', '..', '.', '/', '\\', '%00', '%2e%2e%2f', '${jndi:ldap://x}', "'; DROP TABLE users; --",
  '<script>alert(1)</script>', '\ud800', '\udfff', '🧪'.repeat(50), '\u202e', '\uffff', 'x'.repeat(5000), 'NaN', 'null', 'true', '-1',
  '1e309', '__proto__', 'constructor', 'python', 'javascript', 'wasm', 'admin', 'researcher', 'viewer', 'high', 'auto', 'crr_x', 'crk_x',
];
const KEYS = ['language', 'code', 'files', 'name', 'content', 'encoding', 'stdin', 'args', 'limits', 'timeoutMs', 'memoryMb', 'cpus', 'pids',
  'outputBytes', 'priority', 'runtime', 'metadata', 'evaluations', 'role', 'refreshToken', '__proto__', 'constructor', ''];

function randomString(): string {
  if (random() < 0.5) return pick(NASTY_STRINGS);
  const len = int(40);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(random() < 0.8 ? 32 + int(95) : int(0x10000));
  return s;
}

function randomValue(depth = 0): unknown {
  const r = random();
  if (depth > 20 || r < 0.15) return pick([null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 31]);
  if (r < 0.45) return randomString();
  if (r < 0.6) return int(1_000_000) - 1000;
  if (r < 0.8) return Array.from({ length: int(depth > 3 ? 3 : 8) }, () => randomValue(depth + 1));
  return Object.fromEntries(Array.from({ length: int(6) }, () => [random() < 0.7 ? pick(KEYS) : randomString(), randomValue(depth + 1)]));
}

const VALID = { language: 'javascript', code: 'console.log(1)', limits: { timeoutMs: 1000 }, priority: 'low', metadata: { a: 1 } };

/** A valid request with one field replaced, removed or added. */
function mutated(): Record<string, unknown> {
  const body: Record<string, unknown> = structuredClone(VALID);
  const key = pick(KEYS);
  const op = int(3);
  if (op === 0) delete body[pick(Object.keys(body))];
  else body[key] = randomValue(1);
  if (random() < 0.3) body.limits = { [pick(['timeoutMs', 'memoryMb', 'cpus', 'pids', 'outputBytes', 'x'])]: randomValue(2) };
  return body;
}

function randomBody(): string {
  const r = random();
  if (r < 0.4) return JSON.stringify(mutated());
  if (r < 0.55) return JSON.stringify({ evaluations: Array.from({ length: 1 + int(4) }, () => (random() < 0.5 ? mutated() : randomValue(1))) });
  if (r < 0.85) return JSON.stringify(randomValue());
  // Raw, often invalid, text.
  const json = JSON.stringify(randomValue());
  const cut = int(json.length + 1);
  return random() < 0.5 ? json.slice(0, cut) : json.slice(0, cut) + randomString() + json.slice(cut);
}

describe(`fuzz: ${RUNS} random request bodies, never a 5xx (seed ${SEED})`, () => {
  let p: Platform;
  let userId: string;
  before(async () => {
    // No agents: accepted evaluations just stay queued; the property is about the API's answers.
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '0', CRUCIBLE_BODY_LIMIT_BYTES: '65536' } });
    userId = (await p.request('POST', '/v1/users', { name: 'fuzz', role: 'viewer' })).json.id;
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('answers every body with a success or a clean 4xx', async () => {
    const targets = ['/v1/evaluations', '/v1/evaluations', '/v1/evaluations/batch', '/v1/users', '/v1/auth/refresh', `/v1/users/${userId}/keys`, '/v1/evaluations?wait=0'];
    const seen = new Map<number, number>();
    for (let i = 0; i < RUNS; i++) {
      const path = pick(targets);
      const body = randomBody();
      const res = await p.request('POST', path, body);
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `seed ${SEED} run ${i}: POST ${path} ${body.slice(0, 500)} → ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 400) {
        assert.equal(typeof res.json?.error?.code, 'string', `seed ${SEED} run ${i}: error body for ${body.slice(0, 200)}: ${res.text.slice(0, 200)}`);
      }
    }
    // The generator must reach both sides of validation, or the property says little.
    assert.ok((seen.get(400) ?? 0) > RUNS / 10, `many rejected: ${JSON.stringify([...seen])}`);
    assert.ok(((seen.get(202) ?? 0) + (seen.get(201) ?? 0)) > 10, `some accepted: ${JSON.stringify([...seen])}`);
    assert.equal((await p.request('GET', '/healthz')).status, 200, 'still up');
  });
});
