import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { applyRedisAcl, urlFor, type AclUsers } from '../src/admin/redis-acl.js';
import { gatewayKeys } from '../src/auth/redis-keys.js';
import { OwnRedis } from './own-services.js';
import { Platform } from './platform.js';

/**
 * The agents' and the gateway's Redis ACL users (Redis 7). On a redis-server of this test's own:
 * the test tries FLUSHALL, FUNCTION FLUSH and the like, which must never reach a shared server
 * even if a rule were wrong.
 */
describe('Redis ACL users: agents reach only the agent protocol', () => {
  const id = randomBytes(4).toString('hex');
  const prefix = `crucible-acl-${id}`;
  const users: AclUsers = {
    prefix,
    agent: { name: `crucible-test-agent-${id}`, password: randomBytes(16).toString('hex') },
    gateway: { name: `crucible-test-gateway-${id}`, password: randomBytes(16).toString('hex') },
  };
  let ADMIN_URL: string;
  let server: OwnRedis;
  let admin: Redis;
  let agent: Redis;
  let gateway: Redis;

  before(async () => {
    server = await OwnRedis.start();
    ADMIN_URL = server.url;
    admin = new Redis(ADMIN_URL);
    await admin.call('FUNCTION', 'LOAD', "#!lua name=canary\nredis.register_function('canary', function() return 1 end)");
    await applyRedisAcl(admin, users);
    agent = new Redis(urlFor(ADMIN_URL, users.agent), { maxRetriesPerRequest: 1 });
    gateway = new Redis(urlFor(ADMIN_URL, users.gateway), { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    agent?.disconnect();
    gateway?.disconnect();
    admin?.disconnect();
    await server?.dispose();
  });

  const denied = async (what: string, call: () => Promise<unknown>) => {
    await assert.rejects(call, /NOPERM|no permissions/i, what);
  };

  it('lets the agent use its lanes, the reports stream, heartbeats and cancel markers and channel', async () => {
    const k = redisKeys(prefix);
    await agent.hset(`${prefix}:lane:normal:jobs`, 'x', '{}');
    await agent.lpush(`${prefix}:lane:high:waiting`, 'x');
    await agent.xadd(k.reports, '*', 'r', '{}');
    await agent.hset(k.agents, 'agent-1', '{}');
    assert.equal(await agent.get(k.cancelled('some-id')), null);
    const sub = agent.duplicate();
    await sub.subscribe(k.cancelChannel);
    sub.disconnect();
    // Scripts work, and ACLs apply to the keys they touch.
    assert.equal(await agent.eval("return redis.call('HGET', KEYS[1], 'x')", 1, `${prefix}:lane:normal:jobs`), '{}');
    await denied('a script touching a gateway key', () => agent.eval("return redis.call('GET', KEYS[1])", 1, gatewayKeys(prefix).keyCache('crk_x')));
  });

  it("refuses the agent the gateway's keys, other prefixes, event channels and dangerous commands", async () => {
    const g = gatewayKeys(prefix);
    await denied('auth cache read', () => agent.get(g.keyCache('crk_abcdefgh')));
    await denied('auth cache write', () => agent.set(g.keyCache('crk_abcdefgh'), '{"role":"admin"}'));
    await denied('revocation marker delete', () => agent.del(g.revokedKey('k')));
    await denied('rate limit reset', () => agent.del(g.rateLimit('submit', 'k')));
    await denied('another platform', () => agent.lpush('other-prefix:lane:normal:waiting', 'x'));
    await denied('publishing fake events to watchers', () => agent.publish(redisKeys(prefix).events('e'), '{}'));
    await denied('reading another owner feed', async () => {
      const sub = agent.duplicate();
      try {
        await sub.subscribe(redisKeys(prefix).ownerEvents('someone'));
      } finally {
        sub.disconnect();
      }
    });
    await denied('FLUSHALL', () => agent.flushall());
    await denied('FLUSHDB', () => agent.flushdb());
    await denied('KEYS', () => agent.keys('*'));
    await denied('CONFIG', () => agent.config('GET', 'requirepass'));
    await denied('ACL', () => agent.call('ACL', 'SETUSER', users.agent.name, '+@all'));
    await denied('SCRIPT FLUSH', () => agent.script('FLUSH'));
    await denied('FUNCTION FLUSH', () => agent.call('FUNCTION', 'FLUSH'));
    await denied('FUNCTION DELETE', () => agent.call('FUNCTION', 'DELETE', 'canary'));
    assert.equal(await admin.call('FCALL', 'canary', '0'), 1, 'the function survived');
    await denied('CLIENT LIST', () => agent.call('CLIENT', 'LIST'));
    await denied('SWAPDB', () => agent.call('SWAPDB', '0', '1'));
    await denied('MONITOR', () => agent.call('MONITOR'));
    await denied('SHUTDOWN', () => agent.call('SHUTDOWN', 'NOSAVE'));
  });

  it('gives the gateway its whole prefix but nothing beyond it, and no dangerous commands', async () => {
    const g = gatewayKeys(prefix);
    await gateway.set(g.keyCache('crk_abcdefgh'), '{}', 'EX', 10);
    await gateway.xadd(redisKeys(prefix).reports, '*', 'r', '{}');
    await denied('another prefix', () => gateway.get('other-prefix:auth:key:x'));
    await denied('FLUSHALL', () => gateway.flushall());
    await denied('KEYS', () => gateway.keys(`${prefix}:*`));
    await denied('CONFIG', () => gateway.config('GET', '*'));
  });

  it('runs a whole platform with the gateway and its agents each on their own user', async () => {
    // Our own server: forgetting the probes' denials harms nobody.
    await admin.call('ACL', 'LOG', 'RESET');
    await using p = await Platform.start({
      prefix,
      env: { REDIS_URL: urlFor(ADMIN_URL, users.gateway), CRUCIBLE_AGENT_REDIS_URL: urlFor(ADMIN_URL, users.agent), CRUCIBLE_AGENTS: '1' },
    });
    await p.waitForLanguage('javascript');
    const clients = String(await admin.call('CLIENT', 'LIST'));
    assert.match(clients, new RegExp(`user=${users.agent.name} `), 'the agent connected as its own user');
    assert.match(clients, new RegExp(`user=${users.gateway.name} `), 'the gateway connected as its own user');
    const self = `id=${await admin.call('CLIENT', 'ID')} `;
    const others = clients.split('\n').filter((line) => line && !line.startsWith(self));
    assert.deepEqual(others.filter((line) => line.includes('user=default ')), [], 'nothing of the platform used the default user');
    const e = await p.run({ language: 'javascript', code: 'console.log("least privilege")' });
    assert.equal(e.stdout, 'least privilege\n');
    const python = await p.run({ language: 'python', code: 'print(6 * 7)' });
    assert.equal(python.stdout, '42\n');
    // Rate limits work under the gateway's user (their script calls TIME).
    const limited = await p.request('GET', '/v1/queue');
    assert.ok(limited.headers.get('ratelimit'), 'the limiter answered');
    // Nothing the platform did was refused: every denial Redis logged came from the probes above.
    const log = (await admin.call('ACL', 'LOG')) as unknown[][];
    const entries = log.map((e) => Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i], e[2 * i + 1]])));
    assert.deepEqual(entries.map((e) => `${e.username} ${e.context} ${e.reason} ${e.object}`), []);
  });
});
