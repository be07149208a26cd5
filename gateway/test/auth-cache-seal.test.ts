import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { applyRedisAcl, urlFor, type AclUsers } from '../src/admin/redis-acl.js';
import { displayPrefix, fingerprint } from '../src/auth/api-keys.js';
import { CacheSeal } from '../src/auth/cache-seal.js';
import { gatewayKeys } from '../src/auth/redis-keys.js';
import { OwnRedis } from './own-services.js';
import { Platform } from './platform.js';

describe('CacheSeal (HMAC-SHA256 over Redis key, value and expiry)', () => {
  const seal = new CacheSeal(async () => 'k'.repeat(43));
  const other = new CacheSeal(async () => 'o'.repeat(43));
  const entry = { fp: 'f', keyId: 'k1', userId: 'u1', role: 'viewer' };

  it('opens what it sealed, and nothing altered, moved, foreign or expired', async () => {
    const text = await seal.seal('p:auth:key:abc', entry, 300);
    assert.deepEqual(await seal.open('p:auth:key:abc', text), { value: entry });
    const sealed = JSON.parse(text) as { v: Record<string, unknown>; exp: number; mac: string };
    const rejected = { rejected: true };
    assert.deepEqual(await seal.open('p:auth:key:abc', JSON.stringify({ ...sealed, v: { ...sealed.v, role: 'admin' } })), rejected, 'a changed role');
    assert.deepEqual(await seal.open('p:auth:key:abc', JSON.stringify({ ...sealed, exp: sealed.exp + 3_600_000 })), rejected, 'a longer life');
    assert.deepEqual(await seal.open('p:auth:key:xyz', text), rejected, 'moved to another key');
    assert.deepEqual(await other.open('p:auth:key:abc', text), rejected, 'sealed with another platform\'s key');
    assert.deepEqual(await seal.open('p:auth:key:abc', JSON.stringify(entry)), rejected, 'unsealed (the old format)');
    assert.deepEqual(await seal.open('p:auth:key:abc', JSON.stringify({ ...sealed, mac: sealed.mac.slice(0, 10) })), rejected, 'a short MAC');
    assert.deepEqual(await seal.open('p:auth:key:abc', 'not json'), rejected);
    assert.equal(await seal.open('p:auth:key:abc', text, sealed.exp + 1), undefined, 'expired: a plain miss');
    assert.equal(await seal.open('p:auth:key:abc', null), undefined);
  });
});

/**
 * Nothing that can write Redis can mint an identity (issue 12), through the public API on real
 * platforms, Redis (a redis-server of this test's own) and databases (each platform's own).
 */
describe('the API-key cache in Redis is bound to the gateways and the database', () => {
  const id = randomBytes(4).toString('hex');
  const prefix = `crucible-seal-${id}`;
  const keys = gatewayKeys(prefix);
  // The same initial admin key on both platforms: the case seen in issue 12, where one platform's
  // cache entry made the other resolve the key to a user of the first one's database.
  const adminKey = `crk_seal_${randomBytes(16).toString('hex')}`;
  let server: OwnRedis;
  let adminUrl: string;
  let admin: Redis;
  let a: Platform;
  let b: Platform;

  before(async () => {
    server = await OwnRedis.start();
    adminUrl = server.url;
    admin = new Redis(adminUrl);
    const env = { REDIS_URL: adminUrl, CRUCIBLE_AGENTS: '0', CRUCIBLE_ADMIN_KEY: adminKey };
    // Two platforms, one Redis and prefix, two databases (each its own PGlite folder).
    [a, b] = await Promise.all([Platform.start({ prefix, env }), Platform.start({ prefix, env })]);
  });
  after(async () => {
    await a?.[Symbol.asyncDispose]();
    await b?.[Symbol.asyncDispose]();
    admin?.disconnect();
    await server?.dispose();
  });

  const me = async (p: Platform, key: string) => {
    const res = await p.request('GET', '/v1/auth/me', undefined, p.auth(key));
    return { status: res.status, ...(res.json as { id?: string; role?: string }) };
  };
  const rejectedCount = async (p: Platform) => {
    const text = (await p.request('GET', '/metrics')).text;
    return Number(/^crucible_auth_cache_rejected_total\{cache="api_key"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it("a second platform on the same Redis never takes the first one's cache entry for its own", async () => {
    const onA = await me(a, adminKey);
    assert.equal(onA.status, 200);
    // A cached (and sealed) the key; B finds that entry under the same Redis key.
    assert.ok(await admin.get(keys.keyCache(displayPrefix(adminKey))), 'A cached the key');
    const before = await rejectedCount(b);
    const onB = await me(b, adminKey);
    assert.equal(onB.status, 200);
    assert.notEqual(onB.id, onA.id, "B resolved the key to its own admin user, not A's");
    assert.equal(await rejectedCount(b), before + 1, "B counted A's entry as not its own");
    // And back: A, finding B's entry now, still answers with its own user.
    assert.equal((await me(a, adminKey)).id, onA.id);
  });

  it("a forged entry written as the agents' Redis user makes a viewer's key no admin", async () => {
    const user = await a.request('POST', '/v1/users', { name: `viewer-${id}`, role: 'viewer' });
    assert.equal(user.status, 201, user.text);
    const issued = await a.request('POST', `/v1/users/${user.json.id}/keys`, {});
    assert.equal(issued.status, 201, issued.text);
    const viewerKey = issued.json.key as string;
    const adminId = (await me(a, adminKey)).id!;
    const first = await me(a, viewerKey); // verified against storage, then cached
    assert.deepEqual([first.status, first.id, first.role], [200, user.json.id, 'viewer']);

    // With the launcher's ACL rules the agents' user cannot even write there...
    const users: AclUsers = {
      prefix,
      agent: { name: `crucible-agent-${id}`, password: randomBytes(16).toString('hex') },
      gateway: { name: `crucible-gateway-${id}`, password: randomBytes(16).toString('hex') },
    };
    await applyRedisAcl(admin, users);
    const agent = new Redis(urlFor(adminUrl, users.agent), { maxRetriesPerRequest: 1 });
    const cacheKey = keys.keyCache(displayPrefix(viewerKey));
    const forged = JSON.stringify({ fp: fingerprint(viewerKey), keyId: issued.json.id, userId: adminId, role: 'admin' });
    try {
      await assert.rejects(agent.set(cacheKey, forged), /NOPERM|no permissions/i);
      // ...but on a Redis without them (the machine's Redis, where no ACL users exist) it can
      // write every key: the agents' user with every key allowed, as the default user is.
      await admin.call('ACL', 'SETUSER', users.agent.name, 'allkeys', 'allchannels', '+@all');
      const before = await rejectedCount(a);
      const sealedByA = await admin.get(cacheKey);
      assert.ok(sealedByA, 'A cached the viewer key');
      const sealed = JSON.parse(sealedByA) as { v: Record<string, unknown>; exp: number; mac: string };
      for (const entry of [forged, JSON.stringify({ ...sealed, v: { ...sealed.v, userId: adminId, role: 'admin' } })]) {
        await agent.set(cacheKey, entry, 'EX', 300);
        const seen = await me(a, viewerKey);
        assert.deepEqual([seen.status, seen.id, seen.role], [200, user.json.id, 'viewer'], `forged entry believed: ${entry}`);
        const audit = await a.request('GET', '/v1/audit', undefined, a.auth(viewerKey));
        assert.equal(audit.status, 403, 'an admin-only route stays closed to the viewer');
      }
      assert.ok((await rejectedCount(a)) >= before + 2, 'forged entries are counted');
      // A forged entry for a key that does not exist at all is no key either.
      const ghost = `crk_${randomBytes(32).toString('base64url')}`;
      await agent.set(keys.keyCache(displayPrefix(ghost)), JSON.stringify({ fp: fingerprint(ghost), keyId: 'x', userId: adminId, role: 'admin' }), 'EX', 300);
      assert.equal((await me(a, ghost)).status, 401);
    } finally {
      agent.disconnect();
    }
  });
});
