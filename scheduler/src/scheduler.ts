import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Storage } from '@crucible/storage';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { AgentRegistry } from './agent-registry.js';
import type { SchedulerConfig } from './config.js';
import { EventBus } from './event-bus.js';
import { Autoscaler } from './autoscaler.js';
import { LocalDriver } from './local-driver.js';
import { createNomadDriver } from './nomad/create.js';
import type { DriverStatus } from './nomad/nomad-driver.js';
import { agentSize, hostAgentCapacity } from './scaling.js';
import { OverdueSweeper } from './overdue-sweeper.js';
import { Reconciler } from './reconciler.js';
import { ResultCollector } from './result-collector.js';
import { TaskQueue } from './task-queue.js';

/** Where the agent program is; resolved through the package, so it follows the build. */
export function agentEntry(): string {
  return fileURLToPath(import.meta.resolve('@crucible/executor-agent/main'));
}

/** How agents are run: `local` child processes or `nomad` dispatched jobs. */
export interface Driver {
  readonly name: 'local' | 'nomad';
  start(): void;
  stop(): Promise<void>;
  /** For /readyz; a driver without one is always ready. */
  status?(): DriverStatus | Promise<DriverStatus>;
}

/** On shutdown, how long the collector may take to apply the agents' last reports. */
const SETTLE_MS = 10_000;

/**
 * The scheduler: runs agents through its driver, collects their results into storage and keeps
 * Redis and PostgreSQL reconciled. Start it in the gateway's process or on its own.
 */
export class Scheduler {
  readonly queue: TaskQueue;
  readonly bus: EventBus;
  readonly agents: AgentRegistry;
  readonly driver: Driver;
  private readonly collector: ResultCollector;
  private readonly reconciler: Reconciler;
  private readonly sweeper: OverdueSweeper;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly storage: Storage,
    private readonly redis: Redis,
    private readonly log: Logger,
  ) {
    const keys = redisKeys(config.redisPrefix);
    this.queue = new TaskQueue({ redisUrl: config.redisUrl, keys, retries: config.retries, retryBackoffMs: config.retryBackoffMs }, redis);
    this.bus = new EventBus(redis, keys);
    this.agents = new AgentRegistry(redis, keys);
    this.collector = new ResultCollector(
      redis.duplicate(), keys, storage.evaluations, this.bus, log.child({ part: 'collector' }), config.consumerName, storage.deadLetters,
    );
    this.reconciler = new Reconciler(
      storage.evaluations, this.queue, log.child({ part: 'reconciler' }), config.reconcileGraceMs, storage.deadLetters, config.retries + 1,
    );
    this.sweeper = new OverdueSweeper(storage.evaluations, storage.deadLetters, this.queue, this.bus, log.child({ part: 'overdue-sweeper' }), {
      graceMs: config.overdueGraceMs,
      compileAllowanceMs: config.overdueCompileAllowanceMs,
    });
    this.driver =
      config.driver === 'nomad'
        ? createNomadDriver(config, agentEnv(config), this.queue, redis, log.child({ part: 'nomad-driver' }))
        : this.localAutoscaler(config, log);
  }

  /** The local driver: one pool of agent processes per group of lanes, sized by the autoscaler. */
  private localAutoscaler(config: SchedulerConfig, log: Logger): Autoscaler {
    const size = agentSize(config.agentConcurrency, { memoryMb: config.maxTaskMemoryMb, cpus: config.maxTaskCpus });
    const pools = config.pools.map((lanes) => ({
      name: lanes.join(','),
      lanes,
      policy: { min: config.agents, max: config.agentsMax, tasksPerAgent: config.agentConcurrency, drainTargetSeconds: 10, maxStepUp: 2 },
      driver: new LocalDriver(
        { agents: config.agents, entry: agentEntry(), graceMs: config.shutdownGraceMs, env: agentEnv(config), lanes: lanes.join(',') },
        log.child({ part: 'local-driver', pool: lanes.join(',') }),
      ),
    }));
    return new Autoscaler(
      pools,
      { depths: () => this.queue.depths(), agents: () => this.agents.live() },
      { intervalMs: config.scaleIntervalMs, idleMs: config.agentIdleMs, hostCapacity: hostAgentCapacity(config.host, size) },
      log.child({ part: 'autoscaler' }),
    );
  }

  async start(): Promise<void> {
    await this.queue.ready();
    await this.collector.start();
    this.driver.start();
    // Reconcile only after reports left from a previous run are applied, or finished work would re-run.
    void this.collector.drained.then(() => this.reconcileSoon());
    this.reconcileTimer = setInterval(() => this.reconcileSoon(), this.config.reconcileIntervalMs);
    // The backstop likewise judges only after earlier reports are applied (a result waiting in the
    // stream is not a lost one).
    void this.collector.drained.then(() => {
      if (this.stopped) return;
      this.sweepSoon();
      this.sweepTimer = setInterval(() => this.sweepSoon(), this.config.overdueIntervalMs);
    });
  }

  /**
   * Stops in order: the agents first (they stop taking work and finish running evaluations within
   * their grace, handing back the rest), then the collector once their last reports are applied.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reconcileTimer);
    clearInterval(this.sweepTimer);
    await this.driver.stop();
    const settled = await this.collector.settle(SETTLE_MS);
    if (!settled) this.log.warn('stopping with reports not yet applied; they stay in Redis for the next start');
    await this.collector.stop();
    await this.bus.close();
    await this.queue.close();
  }

  private reconcileSoon(): void {
    this.reconciler.reconcile().catch((err) => this.log.error({ err }, 'reconcile failed'));
  }

  private sweepSoon(): void {
    this.sweeper.sweep().catch((err) => this.log.error({ err }, 'overdue sweep failed'));
  }
}

/** Agents get Redis and Docker settings only: never database credentials. */
function agentEnv(config: SchedulerConfig): Record<string, string> {
  const env: Record<string, string> = {
    PATH: config.agentPath,
    REDIS_URL: config.agentRedisUrl,
    CRUCIBLE_REDIS_PREFIX: config.redisPrefix,
    CRUCIBLE_AGENT_CONCURRENCY: String(config.agentConcurrency),
    CRUCIBLE_STALL_INTERVAL_MS: String(config.stallIntervalMs),
    CRUCIBLE_SHUTDOWN_GRACE_MS: String(config.shutdownGraceMs),
    CRUCIBLE_CONTAINER_RUNTIME: config.containerRuntime,
    CRUCIBLE_LOG_LEVEL: config.logLevel,
  };
  if (config.dockerHost) env.DOCKER_HOST = config.dockerHost;
  if (config.agentSandboxDir) env.CRUCIBLE_SANDBOX_DIR = config.agentSandboxDir;
  return env;
}
