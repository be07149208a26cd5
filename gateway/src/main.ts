#!/usr/bin/env node
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage } from '@crucible/storage';
import { AgentRegistry, EventBus, Scheduler, TaskQueue, loadConfig as loadSchedulerConfig } from '@crucible/scheduler';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { createApp } from './app.js';
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

  const app = createApp({
    storage,
    redis,
    scheduler: parts,
    log,
    bodyLimitBytes: config.bodyLimitBytes,
    maxWaitSeconds: config.maxWaitSeconds,
    maxQueueDepth: config.maxQueueDepth,
    maxLimits: config.maxLimits,
    defaultLimits: config.defaultLimits,
    owner: 'local',
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

main().catch((err) => {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
});
