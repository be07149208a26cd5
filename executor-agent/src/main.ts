#!/usr/bin/env node
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { RuntimeKind } from '@crucible/storage/domain';
import { Agent } from './agent.js';
import { loadConfig } from './config.js';
import { AgentLifetime } from './lifetime.js';
import { redisKeys } from './protocol/index.js';
import { ContainerSandbox } from './sandbox/container/index.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { WasmSandbox } from './sandbox/wasm/index.js';

const config = loadConfig();
const log = pino({ name: 'executor-agent', level: config.logLevel }, pino.destination(2));
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const sandboxes = new Map<RuntimeKind, Sandbox>([
  [
    'container',
    new ContainerSandbox({
      docker: config.dockerHost || undefined,
      agentId: config.agentId,
      runtime: config.containerRuntime,
      ...(config.sandboxDir ? { sandboxDir: config.sandboxDir } : {}),
      ...(config.allowedContainerRuntimes.length > 0 ? { allowedRuntimes: config.allowedContainerRuntimes } : {}),
    }),
  ],
  ['wasm', new WasmSandbox()],
]);
const lifetime = new AgentLifetime({ idleTimeoutMs: config.idleTimeoutMs, maxTasks: config.maxTasks }, (reason) => {
  log.info({ reason }, 'agent retiring');
  void shutdown('retire');
});
const agent = new Agent(
  {
    id: config.agentId,
    node: config.node,
    lanes: config.lanes,
    concurrency: config.concurrency,
    redisUrl: config.redisUrl,
    keys: redisKeys(config.redisPrefix),
    stallIntervalMs: config.stallIntervalMs,
    tasks: lifetime,
  },
  redis,
  sandboxes,
  log,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  lifetime.stop();
  log.info({ signal }, 'stopping agent');
  await agent.stop(config.shutdownGraceMs);
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

agent
  .start()
  .then(() => lifetime.start())
  .catch((err) => {
    log.fatal({ err }, 'agent failed to start');
    process.exit(1);
  });
