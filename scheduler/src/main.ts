#!/usr/bin/env node
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage } from '@crucible/storage';
import { loadConfig } from './config.js';
import { serveMetrics } from './metrics-server.js';
import { driverCheck } from './readiness.js';
import { Scheduler } from './scheduler.js';

// The scheduler on its own, for deployments where the gateway runs with CRUCIBLE_SCHEDULER=external.
const config = loadConfig();
const log = pino({ name: 'scheduler', level: config.logLevel }, pino.destination(2));
const databaseUrl = process.env.DATABASE_URL;
const metricsPort = Number(process.env.CRUCIBLE_SCHEDULER_METRICS_PORT ?? 9465);
const metricsHost = process.env.CRUCIBLE_SCHEDULER_METRICS_HOST ?? '127.0.0.1';

async function main(): Promise<void> {
  if (!databaseUrl) throw new Error('a standalone scheduler needs DATABASE_URL (PGlite is single-process)');
  const storage = await openStorage({ databaseUrl, dataDir: '' });
  const redis = new Redis(config.redisUrl);
  const scheduler = new Scheduler(config, storage, redis, log);
  await scheduler.start();
  const metrics = await serveMetrics(metricsHost, metricsPort, {
    postgres: async () => (await storage.ping(), undefined),
    redis: async () => (await redis.ping(), undefined),
    driver: driverCheck(scheduler.driver),
  });
  log.info({ metricsPort }, 'scheduler started');
  const shutdown = async () => {
    metrics.close();
    await scheduler.stop();
    await storage.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

main().catch((err) => {
  log.fatal({ err }, 'scheduler failed to start');
  process.exit(1);
});
