import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Storage } from '../src/index.js';
import { BACKENDS } from './backends.js';

const hash = () => randomBytes(16).toString('hex');
const inAnHour = () => new Date(Date.now() + 3_600_000);

for (const makeBackend of BACKENDS) {
  const backend = makeBackend();

  describe(`auth repositories (${backend.name})`, () => {
    let storage: Storage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage?.close();
      await backend.cleanup();
    });

    it('finds a live key by prefix with its user, and not once revoked; revoking revokes its refresh tokens', async () => {
      const user = await storage.users.create({ name: 'ada', role: 'researcher' });
      const key = await storage.users.addKey({ userId: user.id, prefix: `crk_${randomBytes(4).toString('hex')}`, hash: 'scrypt$x' });
      const found = await storage.users.findLiveKey(key.prefix);
      assert.equal(found?.user.role, 'researcher');
      assert.equal(found?.key.id, key.id);
      const tokenHash = hash();
      const token = await storage.refreshTokens.issue({ hash: tokenHash, userId: user.id, keyId: key.id, expiresAt: inAnHour() });
      const revoked = await storage.users.revokeKey(key.id);
      assert.ok(revoked?.revokedAt);
      assert.equal(await storage.users.findLiveKey(key.prefix), undefined);
      assert.equal((await storage.refreshTokens.spend(tokenHash)).kind, 'reused', 'a revoked key revokes its refresh tokens');
      const again = await storage.users.revokeKey(key.id);
      assert.equal(again?.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
      assert.equal(await storage.users.revokeKey(crypto.randomUUID()), undefined);
      assert.equal((await storage.refreshTokens.spend(token.id)).kind, 'unknown', 'tokens are found by hash only');
    });

    it('spends a refresh token once; a second spend is a reuse that revokes the family', async () => {
      const user = await storage.users.create({ name: 'bob', role: 'viewer' });
      const key = await storage.users.addKey({ userId: user.id, prefix: `crk_${randomBytes(4).toString('hex')}`, hash: 'scrypt$x' });
      const first = hash();
      const issued = await storage.refreshTokens.issue({ hash: first, userId: user.id, keyId: key.id, expiresAt: inAnHour() });
      const sibling = hash();
      await storage.refreshTokens.issue({ hash: sibling, userId: user.id, keyId: key.id, familyId: issued.familyId, expiresAt: inAnHour() });
      // Concurrent spends of one token: exactly one wins (on PostgreSQL they truly race).
      const results = await Promise.all([storage.refreshTokens.spend(first), storage.refreshTokens.spend(first)]);
      assert.deepEqual(results.map((r) => r.kind).sort(), ['reused', 'spent']);
      assert.equal((await storage.refreshTokens.spend(sibling)).kind, 'reused', 'the family was revoked by the reuse');
      const old = hash();
      await storage.refreshTokens.issue({ hash: old, userId: user.id, keyId: key.id, expiresAt: new Date(Date.now() - 1000) });
      assert.equal((await storage.refreshTokens.spend(old)).kind, 'expired');
    });

    it('appends audit entries and pages them newest first by id cursor', async () => {
      for (let i = 0; i < 5; i++) {
        await storage.audit.append({ actor: 'u', action: i % 2 ? 'key.create' : 'auth.failure', target: `t${i}`, outcome: 'success', ip: '127.0.0.1', requestId: `r${i}`, details: { i } });
      }
      const first = await storage.audit.list({ limit: 2 });
      assert.deepEqual(first.items.map((e) => e.target), ['t4', 't3']);
      assert.ok(first.nextCursor);
      const second = await storage.audit.list({ limit: 10, cursor: first.nextCursor! });
      assert.deepEqual(second.items.map((e) => e.target), ['t2', 't1', 't0']);
      assert.equal(second.nextCursor, null);
      assert.deepEqual(second.items[0]!.details, { i: 2 });
      const filtered = await storage.audit.list({ limit: 10, action: 'key.create' });
      assert.deepEqual(filtered.items.map((e) => e.target), ['t3', 't1']);
      await assert.rejects(storage.audit.list({ limit: 1, cursor: "1; DROP TABLE audit_log" }), { name: 'StorageInputError' });
    });

    it('keeps one server secret however often and concurrently it is asked for', async () => {
      const values = await Promise.all([1, 2, 3].map((n) => storage.secrets.getOrCreate('test-secret', () => `value-${n}`)));
      assert.equal(new Set(values).size, 1);
      assert.equal(await storage.secrets.getOrCreate('test-secret', () => 'other'), values[0]);
    });

    it('keeps one auth cache key per database, made at migration, one row, not granted to PUBLIC', async () => {
      const key = await storage.secrets.authCacheKey();
      assert.ok(Buffer.from(key, 'base64url').length >= 32, 'a 256-bit key');
      assert.deepEqual(await Promise.all([1, 2, 3].map(() => storage.secrets.authCacheKey())), [key, key, key]);
      await assert.rejects(storage.knex('auth_cache_key').insert({ id: false, secret: 'second row' }), 'the table holds one row');
      const other = makeBackend();
      const elsewhere = await other.open();
      try {
        assert.notEqual(await elsewhere.secrets.authCacheKey(), key, 'another database has its own key');
      } finally {
        await elsewhere.close();
        await other.cleanup();
      }
      const acl = await storage.knex.raw(
        'SELECT count(*)::int AS n FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass(?) AND a.grantee = 0',
        ['auth_cache_key'],
      );
      assert.equal(acl.rows[0].n, 0, 'PUBLIC holds no privilege on it');
    });

    it('refuses a role outside admin, researcher, viewer (database check)', async () => {
      await assert.rejects(storage.users.create({ name: 'x', role: 'root' as never }));
    });
  });
}
