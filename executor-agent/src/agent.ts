import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Priority, RuntimeKind, Task } from '@crucible/storage/domain';
import { LaneConsumer, type Delivery, type Disposition } from './lane-consumer.js';
import { HEARTBEAT_INTERVAL_MS, type AgentHeartbeat, type RedisKeys } from './protocol/index.js';
import { Reporter } from './reporter.js';
import { mayRetry, retryDelayMs } from './retry-policy.js';
import type { LanguageInfo, Sandbox } from './sandbox/sandbox.js';

/** How often sandboxes with unavailable languages are checked again. */
const RECHECK_INTERVAL_MS = 30_000;

export interface AgentOptions {
  id: string;
  node: string;
  /** Lanes served, looked at in priority order with a reserved share for lower lanes (lane-order.ts). */
  lanes: Priority[];
  /** Tasks run at once, across all lanes. */
  concurrency: number;
  redisUrl: string;
  keys: RedisKeys;
  /** bee-queue stall interval: how soon a task of a dead agent is handed to another. */
  stallIntervalMs: number;
  /** Told when each task starts and ends (e.g. AgentLifetime, to retire an idle agent). */
  tasks?: { taskStarted(): void; taskFinished(): void };
}

/**
 * The executor agent: pulls tasks from its lanes, runs each in the right sandbox, and reports
 * status, output and result to the scheduler. It holds Redis access only, never database access.
 */
export class Agent {
  private consumer: LaneConsumer | undefined;
  private readonly running = new Map<string, AbortController>();
  /** Why a run was aborted: a cancellation ends it, a shutdown hands it back to the queue. */
  private readonly shutdownAborts = new Set<string>();
  private completed = 0;
  private lastTaskAt = Date.now();
  private subscriber: Redis | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private consumerRedis: Redis | undefined;

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
    // A dedicated connection: the consumer's commands must not queue behind anything else.
    this.consumerRedis = this.redis.duplicate();
    this.consumer = new LaneConsumer(
      this.consumerRedis,
      { lanes: this.opts.lanes, slots: this.opts.concurrency, keys: this.opts.keys, redisUrl: this.opts.redisUrl, stallIntervalMs: this.opts.stallIntervalMs, pollMs: 1000 },
      (delivery) => this.handle(delivery),
      this.log,
    );
    await this.consumer.start();
    this.log.info({ agent: this.opts.id, lanes: this.opts.lanes, languages: this.languages() }, 'agent started');
  }

  languages(): LanguageInfo[] {
    return [...this.sandboxes.values()].flatMap((s) => s.languages());
  }

  /**
   * Graceful shutdown: stops taking work, lets running tasks finish within `graceMs`, then stops
   * what remains and hands those tasks back to their lane unrun (another agent runs them; the
   * hand-back does not count as an attempt).
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.recheckTimer);
    const handBackLater = setTimeout(() => {
      for (const [id, ac] of this.running) {
        this.shutdownAborts.add(id);
        ac.abort();
      }
    }, graceMs);
    await this.consumer?.stop();
    // The consumer's connection is the agent's own (the one it was given is its caller's to close).
    await this.consumerRedis?.quit().catch(() => undefined);
    clearTimeout(handBackLater);
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

  private async handle(delivery: Delivery): Promise<Disposition> {
    this.opts.tasks?.taskStarted();
    try {
      return await this.run(delivery);
    } finally {
      this.opts.tasks?.taskFinished();
    }
  }

  private async run({ task, attempt, maxAttempts, backoffMs }: Delivery): Promise<Disposition> {
    const log = this.log.child({ evaluationId: task.evaluationId, requestId: task.requestId, attempt });
    this.lastTaskAt = Date.now();
    // A task cancelled while queued may still be taken if the removal raced the take.
    if (await this.redis.exists(this.opts.keys.cancelled(task.evaluationId))) {
      log.info('skipping cancelled task');
      return { kind: 'done' };
    }
    const reporter = new Reporter(this.redis, this.opts.keys, this.opts.id, task.evaluationId);
    if (attempt > maxAttempts) {
      // Delivered again after its last allowed attempt was lost (agent killed, stalled): give up.
      await reporter.fault(`gave up after ${maxAttempts} attempt(s): the task was lost each time (agent stopped or stalled)`, false);
      return { kind: 'done' };
    }
    const sandbox = this.sandboxes.get(task.runtime);
    const ac = new AbortController();
    const pickedAt = performance.now();
    this.running.set(task.evaluationId, ac);
    this.beatNow();
    try {
      if (!sandbox) throw new Error(`this agent has no ${task.runtime} sandbox`);
      if (task.runtime === 'container') await reporter.status('provisioning', undefined, attempt);
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
        onStart: () => void reporter.status('running', Math.round(performance.now() - pickedAt), attempt),
        onOutput: (stream, chunk) => reporter.output(stream, chunk),
      });
      if (this.shutdownAborts.has(task.evaluationId)) {
        log.warn('shutting down: task handed back to its lane');
        return { kind: 'handBack' };
      }
      await reporter.result(result);
      this.completed++;
      log.info({ outcome: result.outcome, durationMs: result.durationMs }, 'task finished');
      return { kind: 'done' };
    } catch (err) {
      if (this.shutdownAborts.has(task.evaluationId)) return { kind: 'handBack' };
      // Anything thrown here is the platform's fault, not the program's: retried while attempts are left.
      const retrying = mayRetry(attempt, maxAttempts);
      const message = err instanceof Error ? err.message : String(err);
      log.error({ err, retrying }, 'task failed on a platform fault');
      await reporter.fault(retrying ? message : `gave up after ${attempt} attempt(s): ${message}`, retrying);
      return retrying ? { kind: 'retry', delayMs: retryDelayMs(attempt, backoffMs) } : { kind: 'done' };
    } finally {
      this.running.delete(task.evaluationId);
      this.shutdownAborts.delete(task.evaluationId);
      this.lastTaskAt = Date.now();
      this.beatNow();
    }
  }

  private async listenForCancellations(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(this.opts.keys.cancelChannel, this.opts.keys.wake);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.opts.keys.wake) this.consumer?.wake();
      else this.running.get(message)?.abort();
    });
  }

  /** An extra heartbeat when the agent turns busy or idle, so /v1/queue and the scaler see it at once. */
  private beatNow(): void {
    if (!this.stopping) void this.heartbeat().catch(() => undefined);
  }

  private async heartbeat(): Promise<void> {
    const beat: AgentHeartbeat = {
      id: this.opts.id,
      node: this.opts.node,
      lanes: this.opts.lanes,
      running: this.running.size,
      slots: this.opts.concurrency,
      completed: this.completed,
      // While a task runs the agent is not idle; otherwise, since its last task ended.
      idleSince: this.running.size > 0 ? null : new Date(this.lastTaskAt).toISOString(),
      pid: process.pid,
      lastSeenAt: new Date().toISOString(),
      languages: this.languages(),
      details: Object.fromEntries([...this.sandboxes.values()].map((s) => [s.kind, s.details?.() ?? {}])),
    };
    await this.redis.hset(this.opts.keys.agents, this.opts.id, JSON.stringify(beat));
  }
}
