#!/usr/bin/env node
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openStorage } from '@crucible/storage';
import { loadConfig } from './config.js';
import { Scheduler } from './scheduler.js';

// The scheduler on its own, for deployments where the gateway runs with CRUCIBLE_SCHEDULER=external.
const config = loadConfig();
const log = pino({ name: 'scheduler', level: config.logLevel }, pino.destination(2));
const databaseUrl = process.env.DATABASE_URL;

async function main(): Promise<void> {
  if (!databaseUrl) throw new Error('a standalone scheduler needs DATABASE_URL (PGlite is single-process)');
  const storage = await openStorage({ databaseUrl, dataDir: '' });
  const redis = new Redis(config.redisUrl);
  const scheduler = new Scheduler(config, storage, redis, log);
  await scheduler.start();
  log.info('scheduler started');
  const shutdown = async () => {
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
