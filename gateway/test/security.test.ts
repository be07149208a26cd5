import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { parseSse, waitFor } from './helpers.js';
import { Platform } from './platform.js';

/**
 * Authentication, roles, per-owner isolation, tokens, revocation and the audit log, attacked
 * through the public API of a whole platform.
 */
const SECRET = randomBytes(32).toString('hex');
const secret = new TextEncoder().encode(SECRET);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

interface Actor {
  id: string;
  key: string;
  keyId: string;
}

describe('security: authentication, roles, isolation, tokens, audit', () => {
  let p: Platform;
  let alice: Actor;
  let bob: Actor;
  let viewer: Actor;
  let aliceEval: string;
  const as = (a: Actor | string) => ({ authorization: `Bearer ${typeof a === 'string' ? a : a.key}` });

  async function makeUser(name: string, role: string): Promise<Actor> {
    const user = await p.request('POST', '/v1/users', { name, role });
    assert.equal(user.status, 201, user.text);
    assert.deepEqual(Object.keys(user.json).sort(), ['createdAt', 'id', 'name', 'role']);
    const key = await p.request('POST', `/v1/users/${user.json.id}/keys`);
    assert.equal(key.status, 201, key.text);
    return { id: user.json.id, key: key.json.key, keyId: key.json.id };
  }

  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_JWT_SECRET: SECRET } });
    await p.waitForLanguage('javascript');
    alice = await makeUser('alice', 'researcher');
    bob = await makeUser('bob', 'researcher');
    viewer = await makeUser('vera', 'viewer');
    const submitted = await p.request('POST', '/v1/evaluations?wait=30', { language: 'javascript', code: 'console.log("alice")' }, as(alice));
    assert.equal(submitted.status, 201, submitted.text);
    aliceEval = submitted.json.id;
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('refuses requests without a valid credential (401, WWW-Authenticate) but keeps probes and public facts open', async () => {
    for (const authorization of ['', 'Bearer', 'Basic YWRtaW46YWRtaW4=', 'Bearer crk_nope', 'Bearer crk_0123456789abcdefghijklmnop', 'Bearer not-a-token', `Bearer ${p.adminKey}x`]) {
      const res = await p.request('GET', '/v1/evaluations', undefined, { authorization });
      assert.equal(res.status, 401, authorization);
      assert.equal(res.json.error.code, 'unauthenticated');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    for (const path of ['/v1/queue', '/v1/events', '/v1/audit', `/v1/evaluations/${aliceEval}`]) {
      assert.equal((await p.request('GET', path, undefined, { authorization: '' })).status, 401, path);
    }
    for (const path of ['/healthz', '/v1/languages', '/v1/openapi.json', '/metrics']) {
      assert.equal((await p.request('GET', path, undefined, { authorization: '' })).status, 200, path);
    }
    const doc = (await p.request('GET', '/v1/openapi.json')).json;
    for (const path of ['/v1/users', '/v1/users/{id}/keys', '/v1/keys/{id}', '/v1/auth/token', '/v1/auth/refresh', '/v1/audit']) assert.ok(doc.paths[path], path);
    assert.deepEqual(doc.components.schemas.CreateUserRequest.properties.role.enum, ['admin', 'researcher', 'viewer']);
    assert.deepEqual(doc.paths['/v1/auth/refresh'].post.security, [], 'documented as public');
  });

  it('issues crk_ keys shown once with a display prefix; a user may add keys for itself only', async () => {
    const own = await p.request('POST', `/v1/users/${alice.id}/keys`, undefined, as(alice));
    assert.equal(own.status, 201);
    assert.match(own.json.key, /^crk_[A-Za-z0-9_-]{43}$/);
    assert.equal(own.json.prefix, own.json.key.slice(0, 12));
    assert.match(own.json.id, UUID_RE);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(own.json.key))).status, 200);
    const other = await p.request('POST', `/v1/users/${bob.id}/keys`, undefined, as(alice));
    assert.equal(other.status, 404, 'another user is indistinguishable from no user');
    assert.equal((await p.request('POST', `/v1/users/${crypto.randomUUID()}/keys`)).status, 404);
  });

  it('enforces roles: a viewer cannot submit or cancel; a researcher cannot reach admin endpoints', async () => {
    const submit = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1' }, as(viewer));
    assert.equal(submit.status, 403);
    assert.equal(submit.json.error.code, 'forbidden');
    assert.equal((await p.request('POST', '/v1/evaluations/batch', { evaluations: [{ language: 'javascript', code: '1' }] }, as(viewer))).status, 403);
    assert.equal((await p.request('POST', `/v1/evaluations/${aliceEval}/cancel`, undefined, as(viewer))).status, 403);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(viewer))).status, 200, 'a viewer reads');
    assert.equal((await p.request('POST', '/v1/users', { name: 'mallory', role: 'admin' }, as(alice))).status, 403);
    assert.equal((await p.request('GET', '/v1/audit', undefined, as(alice))).status, 403);
    assert.equal((await p.request('GET', '/v1/audit', undefined, as(viewer))).status, 403);
    const bad = await p.request('POST', '/v1/users', { name: 'x', role: 'root' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details[0].field, 'role');
  });

  it("answers 404 for another owner's evaluation on every endpoint (IDOR), admin included", async () => {
    for (const who of [bob, viewer, p.adminKey]) {
      const h = as(who);
      assert.equal((await p.request('GET', `/v1/evaluations/${aliceEval}`, undefined, h)).status, 404);
      assert.equal((await p.request('GET', `/v1/evaluations/${aliceEval.toUpperCase()}`, undefined, h)).status, 404);
      assert.equal((await p.request('GET', `/v1/evaluations/${aliceEval}/events`, undefined, h)).status, 404);
      const list = await p.request('GET', '/v1/evaluations?limit=200', undefined, h);
      assert.ok(!list.json.items.some((e: { id: string }) => e.id === aliceEval));
      const filtered = await p.request('GET', '/v1/evaluations?language=javascript&status=completed', undefined, h);
      assert.ok(!filtered.json.items.some((e: { id: string }) => e.id === aliceEval));
    }
    const cancel = await p.request('POST', `/v1/evaluations/${aliceEval}/cancel`, undefined, as(bob));
    assert.equal(cancel.status, 404);
    // Alice still sees hers, and only hers.
    const mine = await p.request('GET', '/v1/evaluations', undefined, as(alice));
    assert.deepEqual(mine.json.items.map((e: { id: string }) => e.id), [aliceEval]);
    // A batch only ever creates the caller's own evaluations.
    const batch = await p.request('POST', '/v1/evaluations/batch', { evaluations: [{ language: 'javascript', code: '1' }] }, as(bob));
    assert.equal(batch.status, 202);
    assert.equal((await p.request('GET', `/v1/evaluations/${batch.json.items[0].id}`, undefined, as(alice))).status, 404);
    // Keys: Bob cannot revoke Alice's key.
    assert.equal((await p.request('DELETE', `/v1/keys/${alice.keyId}`, undefined, as(bob))).status, 404);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(alice))).status, 200, 'her key still works');
  });

  it("does not leak another owner's status changes on /v1/events", async () => {
    const ac = new AbortController();
    const res = await fetch(`${p.url}/v1/events`, { signal: ac.signal, headers: as(bob) });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    await waitFor(async () => text.includes(': following'));
    const theirs = await p.request('POST', '/v1/evaluations?wait=30', { language: 'javascript', code: 'console.log(2)' }, as(alice));
    const own = await p.request('POST', '/v1/evaluations?wait=30', { language: 'javascript', code: 'console.log(3)' }, as(bob));
    await waitFor(async () => parseSse(text).some((e) => e.data.id === own.json.id && e.data.status === 'completed'));
    ac.abort();
    await pump;
    assert.ok(!text.includes(theirs.json.id), "Alice's evaluation never appears in Bob's feed");
  });

  it('exchanges an API key for an access token and a refresh token; an access token cannot mint more', async () => {
    const pair = await p.request('POST', '/v1/auth/token', undefined, as(alice));
    assert.equal(pair.status, 200, pair.text);
    assert.equal(pair.json.expiresIn, 900);
    const header = decode(pair.json.accessToken.split('.')[0]);
    assert.equal(header.alg, 'HS256');
    const me = await p.request('GET', '/v1/auth/me', undefined, as(pair.json.accessToken));
    assert.deepEqual([me.json.id, me.json.role, me.json.via], [alice.id, 'researcher', 'jwt']);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(pair.json.accessToken))).json.items[0].id !== undefined, true);
    const again = await p.request('POST', '/v1/auth/token', undefined, as(pair.json.accessToken));
    assert.equal(again.status, 401);
  });

  it('rejects tampered JWTs: edited claims, alg none, other algorithms, wrong key, expired, wrong audience', async () => {
    const { json } = await p.request('POST', '/v1/auth/token', undefined, as(bob));
    const [h, payload, sig] = json.accessToken.split('.') as [string, string, string];
    const claims = decode(payload);
    const now = Math.floor(Date.now() / 1000);
    const sign = (c: Record<string, unknown>, alg = 'HS256', key = secret) =>
      new SignJWT(c).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
    const forged: Record<string, string> = {
      'role edited to admin': `${h}.${b64({ ...claims, role: 'admin' })}.${sig}`,
      'subject edited to alice': `${h}.${b64({ ...claims, sub: alice.id })}.${sig}`,
      'expiry pushed out': `${h}.${b64({ ...claims, exp: now + 86_400 })}.${sig}`,
      'signature flipped': `${h}.${payload}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
      'signature removed': `${h}.${payload}.`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`,
      'alg None': `${b64({ alg: 'None', typ: 'JWT' })}.${payload}.`,
      'HS512 with the right key': await sign(claims, 'HS512'),
      'signed with another key': await sign({ ...claims, role: 'admin' }, 'HS256', new TextEncoder().encode('x'.repeat(32))),
      expired: await sign({ ...claims, iat: now - 3600, exp: now - 60 }),
      'wrong audience': await sign({ ...claims, aud: 'someone-else' }),
      'no expiry': await sign(Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp'))),
      'unknown role': await sign({ ...claims, role: 'root' }),
    };
    for (const [name, token] of Object.entries(forged)) {
      const res = await p.request('GET', '/v1/evaluations', undefined, as(token));
      assert.equal(res.status, 401, name);
      assert.equal(res.json.error.code, 'unauthenticated', name);
    }
    const expired = await p.request('GET', '/v1/evaluations', undefined, as(forged.expired!));
    assert.equal(expired.json.error.details.reason, 'expired_token');
    // The control: a token signed with the real key and correct claims works, so the refusals above are about the tampering.
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(await sign(claims)))).status, 200);
  });

  it('rotates refresh tokens once each; reusing a spent one revokes the whole family', async () => {
    const first = (await p.request('POST', '/v1/auth/token', undefined, as(bob))).json;
    const second = await p.request('POST', '/v1/auth/refresh', { refreshToken: first.refreshToken }, { authorization: '' });
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.json.refreshToken, first.refreshToken);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(second.json.accessToken))).status, 200);
    const replay = await p.request('POST', '/v1/auth/refresh', { refreshToken: first.refreshToken }, { authorization: '' });
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error.details.reason, 'refresh_reuse');
    const heir = await p.request('POST', '/v1/auth/refresh', { refreshToken: second.json.refreshToken }, { authorization: '' });
    assert.equal(heir.status, 401, 'the family is revoked: the legitimate holder must sign in again');
    for (const refreshToken of ['crr_garbage', 'x', first.accessToken]) {
      assert.equal((await p.request('POST', '/v1/auth/refresh', { refreshToken }, { authorization: '' })).status, 401);
    }
    assert.equal((await p.request('POST', '/v1/auth/refresh', { refreshToken: 7 }, { authorization: '' })).status, 400);
  });

  it('revokes a key at once: the key, access tokens made from it and their refresh tokens all stop working', async () => {
    const carol = await makeUser('carol', 'researcher');
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(carol))).status, 200, 'verified and now cached');
    const tokens = (await p.request('POST', '/v1/auth/token', undefined, as(carol))).json;
    const revoke = await p.request('DELETE', `/v1/keys/${carol.keyId}`, undefined, as(carol));
    assert.equal(revoke.status, 204);
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(carol))).status, 401, 'the key');
    assert.equal((await p.request('GET', '/v1/evaluations', undefined, as(tokens.accessToken))).status, 401, 'its access token');
    assert.equal((await p.request('POST', '/v1/auth/refresh', { refreshToken: tokens.refreshToken }, { authorization: '' })).status, 401, 'its refresh token');
    assert.equal((await p.request('DELETE', `/v1/keys/${carol.keyId}`)).status, 204, 'admin may revoke any key; twice is harmless');
  });

  it('records security events in the audit log with actor, target, outcome, ip and request id', async () => {
    const requestId = `audit-${randomBytes(4).toString('hex')}`;
    await p.request('GET', '/v1/evaluations', undefined, { authorization: 'Bearer crk_wrongwrongwrongwrong', 'x-request-id': requestId });
    const cancelled = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: 'for(;;){}' }, as(alice));
    await p.request('POST', `/v1/evaluations/${cancelled.json.id}/cancel`, undefined, as(alice));
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await p.request('GET', `/v1/audit?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      items.push(...page.json.items);
      cursor = page.json.nextCursor;
    } while (cursor);
    const actions = new Set(items.map((i) => i.action));
    for (const action of ['auth.failure', 'auth.token', 'auth.refresh', 'auth.refresh_reuse', 'user.create', 'key.create', 'key.revoke', 'role.denied', 'evaluation.cancel']) {
      assert.ok(actions.has(action), `audit has ${action}: ${[...actions]}`);
    }
    const failure = items.find((i) => i.requestId === requestId);
    assert.ok(failure, 'the failed attempt is found by its request id');
    assert.deepEqual([failure.action, failure.outcome, failure.actor, failure.details.reason], ['auth.failure', 'failure', null, 'invalid_key']);
    assert.match(failure.ip, /127\.0\.0\.1/);
    const cancel = items.find((i) => i.action === 'evaluation.cancel' && i.target === cancelled.json.id);
    assert.equal(cancel.actor, alice.id);
    const denied = items.find((i) => i.action === 'role.denied' && i.actor === viewer.id);
    assert.equal(denied.outcome, 'denied');
    const created = items.find((i) => i.action === 'user.create' && i.target === alice.id);
    assert.ok(created.actor && created.actor !== alice.id, 'the admin created her');
    // Newest first, ids strictly decreasing across pages.
    const ids = items.map((i) => Number(i.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    assert.equal((await p.request('GET', '/v1/audit?cursor=abc')).status, 400);
    // Secrets never reach the log.
    const all = JSON.stringify(items);
    for (const secretValue of [alice.key, bob.key, viewer.key, p.adminKey]) assert.ok(!all.includes(secretValue));
  });

  it('counts failures and denials in /metrics with low-cardinality labels', async () => {
    const metrics = (await p.request('GET', '/metrics')).text;
    assert.match(metrics, /^crucible_auth_failures_total\{reason="invalid_key"\} [1-9]/m);
    assert.match(metrics, /^crucible_auth_failures_total\{reason="refresh_reuse"\} [1-9]/m);
    assert.match(metrics, /^crucible_auth_failures_total\{reason="invalid_token"\} [1-9]/m);
  });
});
