import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeadLetterRepository, EvaluationRepository } from '@crucible/storage';
import type { Evaluation } from '@crucible/storage/domain';
import { decodeReport, type AgentReport, type RedisKeys } from '@crucible/executor-agent/protocol';
import type { EventBus } from './event-bus.js';
import { endToEnd, evaluationsFinished, killKind, limitKills, platformFaults, queueWait, runDuration, sandboxStart, taskRetries } from './metrics.js';

const BLOCK_MS = 1000;
const BATCH = 200;
const RETRY_DELAY_MS = 1000;

/**
 * Persists agents' reports into storage, then publishes them as events. Reads the reports stream
 * through a consumer group and acknowledges an entry only after storage accepted it, so results
 * produced while PostgreSQL is unreachable wait in Redis and are applied when it is back.
 */
export class ResultCollector {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Resolves after the first pass over entries left unacknowledged by an earlier run. */
  readonly drained: Promise<void>;
  private markDrained!: () => void;

  constructor(
    /** A dedicated connection: XREADGROUP BLOCK holds it. */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly evaluations: EvaluationRepository,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly consumer: string,
    private readonly deadLetters: DeadLetterRepository,
  ) {
    this.drained = new Promise((resolve) => (this.markDrained = resolve));
  }

  async start(): Promise<void> {
    await this.createGroup();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.redis.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    // '0' re-reads this consumer's unacknowledged entries (after a crash or a storage outage).
    let cursor = '0';
    while (this.running) {
      try {
        const entries = await this.read(cursor);
        if (cursor === '0' && entries.length === 0) {
          cursor = '>';
          this.markDrained();
          continue;
        }
        for (const [id, fields] of entries) {
          const report = decodeReport(fields);
          if (report) await this.apply(report);
          else this.log.warn({ id }, 'dropping malformed report');
          await this.redis.xack(this.keys.reports, this.keys.reportsGroup, id);
        }
      } catch (err) {
        if (!this.running) break;
        // Redis restarted empty: the group is gone, and reports agents wrote since are in a new
        // stream. Recreating the group at '0' reads those too.
        if (String(err).includes('NOGROUP')) await this.createGroup().catch(() => undefined);
        this.log.error({ err }, 'applying reports failed; retrying');
        cursor = '0';
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, RETRY_DELAY_MS);
        });
      }
    }
    this.markDrained();
  }

  private async createGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.reports, this.keys.reportsGroup, '0', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
  }

  private async read(cursor: string): Promise<[string, string[]][]> {
    const args = ['GROUP', this.keys.reportsGroup, this.consumer, 'COUNT', BATCH] as const;
    const res = (cursor === '>'
      ? await this.redis.xreadgroup(...args, 'BLOCK', BLOCK_MS, 'STREAMS', this.keys.reports, '>')
      : await this.redis.xreadgroup(...args, 'STREAMS', this.keys.reports, '0')) as [string, [string, string[]][]][] | null;
    return res?.[0]?.[1] ?? [];
  }

  /**
   * An agent announcing attempt `attempt` while storage still shows an earlier one provisioning or
   * running means that earlier attempt was lost (its agent died; the stall check re-delivered the
   * task). Record it as a retry first, so the new attempt is counted and the history shows why.
   */
  private async recordLostAttempt(id: string, attempt: number): Promise<void> {
    const current = await this.evaluations.get(id);
    if (!current || (current.status !== 'provisioning' && current.status !== 'running') || attempt <= current.attempts) return;
    const t = await this.evaluations.transition(id, 'queued', { error: `attempt ${current.attempts} was lost (its agent stopped); retrying` });
    if (!t) return;
    taskRetries.inc({ reason: 'lost' });
    await this.bus.publishStatus(t.event, t.evaluation.owner);
  }

  /** Applies one report. Reports for an evaluation already terminal (e.g. cancelled) change nothing. */
  async apply(report: AgentReport): Promise<void> {
    const id = report.evaluationId;
    switch (report.type) {
      case 'status': {
        // A first attempt cannot follow a lost one; only re-deliveries cost the extra read.
        if (report.attempt !== undefined && report.attempt > 1) await this.recordLostAttempt(id, report.attempt);
        const t = await this.evaluations.transition(id, report.status);
        if (!t) return;
        if (report.sandboxStartMs !== undefined) sandboxStart.observe({ runtime: t.evaluation.runtime }, report.sandboxStartMs / 1000);
        await this.bus.publishStatus(t.event, t.evaluation.owner);
        return;
      }
      case 'output': {
        const current = await this.evaluations.get(id);
        if (!current || current.status === 'cancelled' || current.status === 'completed' || current.status === 'failed') return;
        await this.bus.publish(await this.evaluations.appendEvent(id, report.stream, { data: report.data }));
        return;
      }
      case 'result': {
        const r = report.result;
        // A run killed because it was cancelled ends `cancelled`, keeping the output it produced.
        const cancelled = r.outcome === 'killed' && (await this.redis.exists(this.keys.cancelled(id))) === 1;
        const t = await this.evaluations.transition(id, cancelled ? 'cancelled' : 'completed', {
          outcome: r.outcome,
          exitCode: r.exitCode,
          signal: r.signal,
          stdout: r.stdout,
          stderr: r.stderr,
          stdoutTruncated: r.stdoutTruncated,
          stderrTruncated: r.stderrTruncated,
          durationMs: Math.round(r.durationMs),
          ...(r.pidsLimitHit === true ? { pidsLimitHit: true } : {}),
          ...(r.compile ? { compile: JSON.stringify(r.compile) } : {}),
          ...(cancelled ? { error: 'cancelled by request' } : {}),
        });
        if (!t) return;
        evaluationsFinished.inc({ language: t.evaluation.language, runtime: t.evaluation.runtime, status: t.evaluation.status, outcome: r.outcome });
        observeFinished(t.evaluation);
        const kind = killKind(r);
        if (kind) limitKills.inc({ kind });
        await this.bus.publishStatus(t.event, t.evaluation.owner);
        return;
      }
      case 'fault': {
        platformFaults.inc({ retrying: String(report.retrying) });
        // No retry left: failed, with the reason, and filed in the dead-letter queue (one transaction).
        const t = report.retrying
          ? await this.evaluations.transition(id, 'queued', { error: report.error })
          : await this.deadLetters.fail(id, report.error);
        if (!t) return;
        if (report.retrying) taskRetries.inc({ reason: 'fault' });
        if (!report.retrying) {
          evaluationsFinished.inc({ language: t.evaluation.language, runtime: t.evaluation.runtime, status: 'failed', outcome: 'none' });
        }
        await this.bus.publishStatus(t.event, t.evaluation.owner);
        return;
      }
    }
  }
}

/** Latency histograms from the milestones storage stamped on a finished evaluation. */
function observeFinished(e: Evaluation): void {
  const created = Date.parse(e.createdAt);
  const labels = { runtime: e.runtime };
  if (e.startedAt) queueWait.observe(labels, Math.max(0, Date.parse(e.startedAt) - created) / 1000);
  if (e.finishedAt) endToEnd.observe(labels, Math.max(0, Date.parse(e.finishedAt) - created) / 1000);
  if (e.durationMs !== null) runDuration.observe(labels, e.durationMs / 1000);
}
