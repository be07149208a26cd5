#!/usr/bin/env node
/**
 * `./crucible admin create-user|create-key|revoke-key`: operator commands that act on storage
 * directly, for bootstrapping and break-glass (a lost admin key). They need what the gateway needs
 * (DATABASE_URL, or the PGlite data folder while the platform is stopped, since PGlite is
 * single-process) and Redis for revocation markers. Output is JSON on stdout; each action is audited
 * with the actor `operator`.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ROLES, openStorage, type Role } from '@crucible/storage';
import { Accounts } from '../auth/accounts.js';
import { gatewayKeys } from '../auth/redis-keys.js';
import { loadConfig } from '../config.js';
import { applyRedisAcl, urlFor } from './redis-acl.js';

const USAGE = `usage: ./crucible admin <command>

  create-user --name NAME --role admin|researcher|viewer   print {id, name, role}
  create-key USER_ID                                       print {id, key, prefix, createdAt}; the key is shown only here
  revoke-key KEY_ID                                        the key (and tokens made from it) stop working at once
  redis-acl                                                create/reset the Redis ACL users of the gateway and the
                                                           agents for CRUCIBLE_REDIS_PREFIX; print their REDIS_URL and
                                                           CRUCIBLE_AGENT_REDIS_URL as shell assignments

Uses DATABASE_URL (or CRUCIBLE_DATA_DIR's PGlite, while the platform is stopped), REDIS_URL and CRUCIBLE_REDIS_PREFIX.`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: 'string' }, role: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  if (command === 'create-user') {
    if (!values.name || !ROLES.includes(values.role as Role)) return usage('create-user needs --name and --role admin|researcher|viewer');
  } else if (command === 'redis-acl') {
    return redisAcl();
  } else if (command === 'create-key' || command === 'revoke-key') {
    if (!arg || !UUID.test(arg)) return usage(`${command} needs an id (a uuid)`);
  } else {
    return usage(`unknown command "${command}"`);
  }

  const config = loadConfig();
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const redisUp = await redis.connect().then(() => true, () => false);
  const accounts = new Accounts({ users: storage.users, refreshTokens: storage.refreshTokens, redis: redisUp ? redis : undefined, keys: gatewayKeys(config.redisPrefix), tokens: undefined, accessTtlSeconds: config.accessTokenTtlSeconds });
  const audit = (action: string, target: string, details?: Record<string, unknown>) =>
    storage.audit.append({ actor: 'operator', action, target, outcome: 'success', ip: null, requestId: null, details: { via: 'crucible admin', ...details } });
  try {
    if (command === 'create-user') {
      const user = await accounts.createUser(values.name!, values.role as Role);
      await audit('user.create', user.id, { role: user.role });
      print({ id: user.id, name: user.name, role: user.role, createdAt: user.createdAt });
    } else if (command === 'create-key') {
      const user = await storage.users.get(arg!.toLowerCase());
      if (!user) return fail(`no user ${arg}`);
      const issued = await accounts.createKey(user.id);
      await audit('key.create', issued.record.id, { user: user.id, prefix: issued.record.prefix });
      print({ id: issued.record.id, key: issued.key, prefix: issued.record.prefix, userId: user.id, createdAt: issued.record.createdAt });
    } else {
      const key = await accounts.revokeKey(arg!.toLowerCase());
      if (!key) return fail(`no key ${arg}`);
      await audit('key.revoke', key.id, { user: key.userId, prefix: key.prefix });
      if (!redisUp) process.stderr.write('crucible admin: Redis is unreachable: gateways may accept a cached copy of this key for up to 5 minutes\n');
      print({ id: key.id, prefix: key.prefix, userId: key.userId, revoked: true });
    }
    return 0;
  } finally {
    redis.disconnect();
    await storage.close();
  }
}

/** Sets up the two service users on REDIS_URL's server (connected as a user that may run ACL SETUSER). */
async function redisAcl(): Promise<number> {
  const config = loadConfig();
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const secret = () => randomBytes(24).toString('base64url');
    const users = {
      prefix: config.redisPrefix,
      agent: { name: `${config.redisPrefix}-agent`, password: secret() },
      gateway: { name: `${config.redisPrefix}-gateway`, password: secret() },
    };
    await applyRedisAcl(redis, users);
    process.stdout.write(`REDIS_URL='${urlFor(config.redisUrl, users.gateway)}'\nCRUCIBLE_AGENT_REDIS_URL='${urlFor(config.redisUrl, users.agent)}'\n`);
    return 0;
  } finally {
    redis.disconnect();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function usage(message: string): number {
  process.stderr.write(`crucible admin: ${message}\n${USAGE}\n`);
  return 2;
}

function fail(message: string): number {
  process.stderr.write(`crucible admin: ${message}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`crucible admin: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
