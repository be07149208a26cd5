import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SchedulerConfig } from '../config.js';
import { NomadClient } from './client.js';
import { executorJobFor } from './executor-job.js';
import { publishDriverStatus } from './driver-status.js';
import { NomadDriver, type LaneSource } from './nomad-driver.js';

/** The nomad driver from the scheduler's configuration (CRUCIBLE_DRIVER=nomad, NOMAD_*). */
export function createNomadDriver(config: SchedulerConfig, agentEnv: Record<string, string>, queue: LaneSource, redis: Redis, log: Logger): NomadDriver {
  const n = config.nomad;
  if (!n) throw new Error('CRUCIBLE_DRIVER=nomad without Nomad settings');
  const pem = (path: string | undefined) => (path ? readFileSync(path, 'utf8') : undefined);
  const client = new NomadClient({
    address: n.address,
    token: n.token,
    namespace: n.namespace,
    region: n.region,
    tls: { ca: pem(n.caCert), cert: pem(n.clientCert), key: pem(n.clientKey), serverName: n.tlsServerName },
  });
  return new NomadDriver(
    {
      jobId: n.jobId,
      lanes: n.lanes,
      policy: {
        min: n.minAgents,
        max: n.maxAgents,
        tasksPerAgent: config.agentConcurrency,
        drainTargetSeconds: n.drainTargetSeconds,
        maxStepUp: n.maxStepUp,
      },
      idleTimeoutMs: n.idleTimeoutMs,
      maxTasksPerAgent: n.maxTasksPerAgent,
      intervalMs: n.intervalMs,
      jobToRegister: n.registerJob
        ? executorJobFor({ jobId: n.jobId, env: agentEnv, concurrency: config.agentConcurrency, maxCpus: n.maxCpus, maxMemoryMb: n.maxMemoryMb })
        : undefined,
      onStatus: (status) => publishDriverStatus(redis, config.redisPrefix, status),
    },
    client,
    queue,
    log,
  );
}
