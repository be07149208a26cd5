import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Priority, RuntimeKind, Task } from '@crucible/storage/domain';
import { HEARTBEAT_INTERVAL_MS, type AgentHeartbeat, type RedisKeys } from './protocol/index.js';
import { Reporter } from './reporter.js';
import type { LanguageInfo, Sandbox } from './sandbox/sandbox.js';

/** How often sandboxes with unavailable languages are checked again. */
const RECHECK_INTERVAL_MS = 30_000;

export interface AgentOptions {
  id: string;
  node: string;
  lanes: Priority[];
  /** Tasks run at once per lane queue. */
  concurrency: number;
  redisUrl: string;
  keys: RedisKeys;
  /** bee-queue stall interval: how soon a task of a dead agent is handed to another. */
  stallIntervalMs: number;
}

/**
 * The executor agent: pulls tasks from its lanes, runs each in the right sandbox, and reports
 * status, output and result to the scheduler. It holds Redis access only, never database access.
 */
export class Agent {
  private readonly queues: BeeQueue<Task>[] = [];
  private readonly running = new Map<string, AbortController>();
  private subscriber: Redis | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly opts: AgentOptions,
    private readonly redis: Redis,
    private readonly sandboxes: ReadonlyMap<RuntimeKind, Sandbox>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await Promise.all([...this.sandboxes.values()].map((s) => s.init()));
    await this.listenForCancellations();
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch((err) => this.log.warn({ err }, 'heartbeat failed')), HEARTBEAT_INTERVAL_MS);
    this.recheckTimer = setInterval(() => void this.recheckUnavailable(), RECHECK_INTERVAL_MS);
    for (const lane of this.opts.lanes) {
      const queue = new BeeQueue<Task>(this.opts.keys.laneQueue(lane), {
        prefix: this.opts.keys.queuePrefix,
        redis: { url: this.opts.redisUrl } as never,
        isWorker: true,
        getEvents: false,
        sendEvents: false,
        removeOnSuccess: true,
        removeOnFailure: true,
        // Retries wait as delayed jobs; agents promote them too, so retries need no scheduler.
        activateDelayedJobs: true,
        stallInterval: this.opts.stallIntervalMs,
      });
      queue.on('error', (err) => this.log.error({ err, lane }, 'queue error'));
      await queue.ready();
      queue.process(this.opts.concurrency, (job) => this.handle(job));
      // Tasks whose agent died mid-run are found by any live agent's stall check.
      void queue.checkStalledJobs(this.opts.stallIntervalMs);
      this.queues.push(queue);
    }
    this.log.info({ agent: this.opts.id, lanes: this.opts.lanes, languages: this.languages() }, 'agent started');
  }

  languages(): LanguageInfo[] {
    return [...this.sandboxes.values()].flatMap((s) => s.languages());
  }

  /** Stops taking work, lets running tasks finish within `graceMs`, then kills what remains. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.recheckTimer);
    const killLater = setTimeout(() => this.running.forEach((ac) => ac.abort()), graceMs);
    await Promise.all(this.queues.map((q) => q.close(graceMs + 1000).catch(() => undefined)));
    clearTimeout(killLater);
    await this.redis.hdel(this.opts.keys.agents, this.opts.id).catch(() => undefined);
    await this.subscriber?.quit().catch(() => undefined);
    await Promise.all([...this.sandboxes.values()].map((s) => s[Symbol.asyncDispose]()));
  }

  /**
   * A sandbox with an unavailable language (e.g. Docker not up yet, image still building) is
   * checked again, so the agent starts offering it without a restart.
   */
  private async recheckUnavailable(): Promise<void> {
    for (const sandbox of this.sandboxes.values()) {
      if (sandbox.languages().every((l) => l.available)) continue;
      await sandbox.init().catch((err) => this.log.warn({ err, sandbox: sandbox.kind }, 'sandbox re-check failed'));
    }
  }

  private async handle(job: BeeQueue.Job<Task>): Promise<void> {
    const task = job.data;
    const log = this.log.child({ evaluationId: task.evaluationId, requestId: task.requestId });
    // A task cancelled while queued may still be popped if the removal raced the pop.
    if (await this.redis.exists(this.opts.keys.cancelled(task.evaluationId))) {
      log.info('skipping cancelled task');
      return;
    }
    const sandbox = this.sandboxes.get(task.runtime);
    const reporter = new Reporter(this.redis, this.opts.keys, this.opts.id, task.evaluationId);
    const ac = new AbortController();
    const pickedAt = performance.now();
    this.running.set(task.evaluationId, ac);
    try {
      if (!sandbox) throw new Error(`this agent has no ${task.runtime} sandbox`);
      if (task.runtime === 'container') await reporter.status('provisioning');
      log.info({ language: task.language, runtime: task.runtime }, 'task started');
      const result = await sandbox.run({
        evaluationId: task.evaluationId,
        language: task.language,
        files: task.files,
        stdin: task.stdin,
        args: task.args,
        limits: task.limits,
        containerRuntime: task.containerRuntime,
        signal: ac.signal,
        onStart: () => void reporter.status('running', Math.round(performance.now() - pickedAt)),
        onOutput: (stream, chunk) => reporter.output(stream, chunk),
      });
      await reporter.result(result);
      log.info({ outcome: result.outcome, durationMs: result.durationMs }, 'task finished');
    } catch (err) {
      // Anything thrown here is the platform's fault, not the program's: the queue retries it.
      const retrying = Number(job.options.retries ?? 0) > 0;
      log.error({ err, retrying }, 'task failed on a platform fault');
      await reporter.fault(err instanceof Error ? err.message : String(err), retrying);
      throw err;
    } finally {
      this.running.delete(task.evaluationId);
    }
  }

  private async listenForCancellations(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.opts.keys.cancelChannel);
    this.subscriber.on('message', (_channel: string, evaluationId: string) => {
      this.running.get(evaluationId)?.abort();
    });
  }

  private async heartbeat(): Promise<void> {
    const beat: AgentHeartbeat = {
      id: this.opts.id,
      node: this.opts.node,
      lanes: this.opts.lanes,
      running: this.running.size,
      lastSeenAt: new Date().toISOString(),
      languages: this.languages(),
      details: Object.fromEntries([...this.sandboxes.values()].map((s) => [s.kind, s.details?.() ?? {}])),
    };
    await this.redis.hset(this.opts.keys.agents, this.opts.id, JSON.stringify(beat));
  }
}
