#!/usr/bin/env node
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage } from '@crucible/storage';
import { AgentRegistry, EventBus, Scheduler, TaskQueue, loadConfig as loadSchedulerConfig, readDriverStatus, type Driver } from '@crucible/scheduler';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { createApp } from './app.js';
import { Accounts } from './auth/accounts.js';
import { ensureInitialAdmin, signingKey } from './auth/bootstrap.js';
import { gatewayKeys } from './auth/redis-keys.js';
import { TokenIssuer } from './auth/tokens.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const schedulerConfig = loadSchedulerConfig();
const log = pino({ name: 'gateway', level: config.logLevel }, pino.destination(2));

async function main(): Promise<void> {
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const redis = new Redis(config.redisUrl, { lazyConnect: false });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));

  let scheduler: Scheduler | undefined;
  let parts: Pick<Scheduler, 'queue' | 'bus' | 'agents'>;
  if (config.scheduler === 'embedded') {
    scheduler = new Scheduler(schedulerConfig, storage, redis, log.child({ component: 'scheduler' }));
    await scheduler.start();
    parts = scheduler;
  } else {
    const keys = redisKeys(config.redisPrefix);
    const queue = new TaskQueue({ redisUrl: config.redisUrl, keys, retries: schedulerConfig.retries, retryBackoffMs: schedulerConfig.retryBackoffMs }, redis);
    await queue.ready();
    parts = { queue, bus: new EventBus(redis, keys), agents: new AgentRegistry(redis, keys) };
  }

  const tokens = new TokenIssuer({
    secret: await signingKey(config.jwtSecret, storage.secrets),
    accessTtlSeconds: config.accessTokenTtlSeconds,
    refreshTtlSeconds: config.refreshTokenTtlSeconds,
  });
  const accounts = new Accounts({ users: storage.users, refreshTokens: storage.refreshTokens, redis, keys: gatewayKeys(config.redisPrefix), tokens, accessTtlSeconds: config.accessTokenTtlSeconds });
  const admin = await ensureInitialAdmin(storage.users, accounts, config.adminKey);
  if (admin.created) log.info({ generated: Boolean(admin.generatedKey) }, 'created the initial admin user');
  else if (config.adminKey) log.info('CRUCIBLE_ADMIN_KEY is ignored: users exist already (it is used at first start only)');
  // Printed once, to the terminal that started the platform (never to the JSON log).
  if (admin.generatedKey) process.stdout.write(`Initial admin API key (shown once, keep it): ${admin.generatedKey}\n`);

  const app = createApp({
    storage,
    redis,
    scheduler: parts,
    driver: scheduler?.driver ?? externalDriver(redis),
    log,
    bodyLimitBytes: config.bodyLimitBytes,
    maxWaitSeconds: config.maxWaitSeconds,
    maxQueueDepth: config.maxQueueDepth,
    maxLimits: config.maxLimits,
    defaultLimits: config.defaultLimits,
    security: {
      redisPrefix: config.redisPrefix,
      tokens,
      rateLimits: config.rateLimits,
      maxActiveEvaluations: config.maxActiveEvaluations,
      corsOrigins: config.corsOrigins,
    },
    version: config.version,
  });
  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info({ port }, 'gateway listening');
    // The launcher and tests read this line to learn the URL.
    process.stdout.write(`Crucible is up: http://${config.host}:${port}/\n`);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close();
    server.closeAllConnections();
    await scheduler?.stop().catch((err) => log.error({ err }, 'scheduler stop failed'));
    await parts.queue.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** With an external scheduler, its nomad driver's view of Nomad comes through Redis. */
function externalDriver(redis: Redis): Pick<Driver, 'name' | 'status'> {
  if (schedulerConfig.driver !== 'nomad') return { name: schedulerConfig.driver };
  return { name: 'nomad', status: () => readDriverStatus(redis, config.redisPrefix) };
}

main().catch((err) => {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
});
