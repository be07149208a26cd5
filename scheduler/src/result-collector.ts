import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeadLetterRepository, EvaluationRepository } from '@crucible/storage';
import type { Evaluation } from '@crucible/storage/domain';
import { decodeReport, outputBytes, type AgentReport, type RedisKeys } from '@crucible/executor-agent/protocol';
import type { EventBus } from './event-bus.js';
import { describeRejection, failureKind } from './failure-kind.js';
import {
  endToEnd, evaluationsFinished, killKind, limitKills, platformFaults, queueWait, reportRejections, runDuration, sandboxStart, taskRetries,
} from './metrics.js';

const BLOCK_MS = 1000;
const BATCH = 200;

/** Tuning of the collector's failure handling; the defaults are what the platform runs with. */
export interface CollectorOptions {
  /** How often a report storage rejects is tried before its evaluation is failed (issue 12). */
  maxRejections?: number;
  /** Pause before held or rejected reports are tried again. */
  retryDelayMs?: number;
  /**
   * Entries another consumer (a scheduler that is gone: consumer names carry the pid) left
   * unacknowledged for this long are claimed. A live consumer re-reads what it holds every
   * `retryDelayMs`, which resets the idle time, so only orphans reach it.
   */
  claimIdleMs?: number;
}

type Entry = [id: string, fields: string[]];

/**
 * Persists agents' reports into storage, then publishes them as events. Reads the reports stream
 * through a consumer group and acknowledges an entry only after storage accepted it, so results
 * produced while PostgreSQL is unreachable wait in Redis and are applied when it is back.
 *
 * A failure is classified (failure-kind.ts): an outage holds every report and retries from the
 * oldest unacknowledged one; a rejection holds only that evaluation's reports (order per
 * evaluation is kept, other evaluations flow on) and, after `maxRejections` tries counted in
 * Redis (so a restart does not reset them), fails that evaluation into the dead-letter queue and
 * acknowledges the entry. No single report can stall the pipeline.
 */
export class ResultCollector {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Resolves after the first pass over entries left unacknowledged by an earlier run. */
  readonly drained: Promise<void>;
  private markDrained!: () => void;
  /** Evaluations with a rejected report still pending: their later reports wait behind it. */
  private readonly held = new Set<string>();
  private readonly maxRejections: number;
  private readonly retryDelayMs: number;
  private readonly claimIdleMs: number;
  private lastClaim = -Infinity;

  constructor(
    /** A dedicated connection: XREADGROUP BLOCK holds it. */
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly evaluations: EvaluationRepository,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly consumer: string,
    private readonly deadLetters: DeadLetterRepository,
    options: CollectorOptions = {},
  ) {
    this.drained = new Promise((resolve) => (this.markDrained = resolve));
    this.maxRejections = options.maxRejections ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.claimIdleMs = options.claimIdleMs ?? 60_000;
  }

  /** Hash: stream entry id → times storage rejected it. Beside the stream, outside the agents' ACL. */
  private get rejectionsKey(): string {
    return `${this.keys.reports}:rejections`;
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

  /**
   * Waits, at most `ms`, until every report already in the stream has been applied. For an orderly
   * shutdown (issue 12): once the agents have stopped, their last results reach storage before
   * Redis may go too (a Redis the launcher started keeps nothing on disk). False when time ran out;
   * what is left stays in the stream for the next start.
   */
  async settle(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.running && Date.now() < until) {
      if (await this.caughtUp().catch(() => false)) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  /** Nothing pending in the group and nothing in the stream it has not read. */
  private async caughtUp(): Promise<boolean> {
    const fields = (flat: unknown): Map<string, unknown> => {
      const list = flat as unknown[];
      return new Map(list.flatMap((v, i) => (i % 2 === 0 ? [[String(v), list[i + 1]] as [string, unknown]] : [])));
    };
    const stream = fields(await this.redis.call('XINFO', 'STREAM', this.keys.reports));
    const groups = ((await this.redis.call('XINFO', 'GROUPS', this.keys.reports)) as unknown[]).map(fields);
    const group = groups.find((g) => g.get('name') === this.keys.reportsGroup);
    if (!group) return false;
    return Number(group.get('pending')) === 0 && (Number(stream.get('length')) === 0 || group.get('last-delivered-id') === stream.get('last-generated-id'));
  }

  /** `await using`: stopped even when a test fails half-way. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async run(): Promise<void> {
    // Start with this consumer's unacknowledged entries (after a crash or a storage outage).
    let rescanDue = true;
    let lastScan = 0;
    while (this.running) {
      try {
        if (rescanDue) {
          lastScan = Date.now();
          await this.rescan();
          rescanDue = false;
          this.markDrained();
        }
        await this.process(await this.read('>'));
        // Rejected reports wait in the pending list; try them again after the delay.
        if (this.held.size > 0 && Date.now() - lastScan >= this.retryDelayMs) rescanDue = true;
      } catch (err) {
        if (!this.running) break;
        // Redis restarted empty: the group is gone, and reports agents wrote since are in a new
        // stream. Recreating the group at '0' reads those too.
        if (String(err).includes('NOGROUP')) await this.createGroup().catch(() => undefined);
        this.log.error({ err, kind: failureKind(err) }, 'applying reports failed (outage); holding them and retrying');
        rescanDue = true;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, this.retryDelayMs);
        });
      }
    }
    this.markDrained();
  }

  /**
   * One pass over every unacknowledged entry of this consumer, oldest first (after claiming
   * orphans of consumers that are gone). Rebuilds `held` from scratch: an evaluation whose
   * rejected report now goes through releases its later reports in the same pass, in order.
   */
  private async rescan(): Promise<void> {
    this.held.clear();
    await this.claimOrphans();
    let after = '0';
    for (;;) {
      const entries = await this.read(after);
      if (entries.length === 0) return;
      await this.process(entries);
      after = entries.at(-1)![0];
    }
  }

  private async claimOrphans(): Promise<void> {
    // A claim scans the whole pending list: at start, then at most once per idle period (not at
    // every retry of a long outage, when the list may hold every report written meanwhile).
    if (Date.now() - this.lastClaim < this.claimIdleMs) return;
    this.lastClaim = Date.now();
    let cursor = '0-0';
    do {
      const [next] = (await this.redis.xautoclaim(
        this.keys.reports, this.keys.reportsGroup, this.consumer, this.claimIdleMs, cursor, 'COUNT', BATCH, 'JUSTID',
      )) as [string, string[]];
      cursor = next;
    } while (cursor !== '0-0' && this.running);
  }

  /** Applies entries in order. Throws on an outage (the caller holds everything and rescans). */
  private async process(entries: Entry[]): Promise<void> {
    for (const [id, fields] of entries) {
      const report = decodeReport(fields);
      if (!report) {
        this.log.warn({ id }, 'dropping malformed report');
        await this.ack(id);
        continue;
      }
      // A later report of an evaluation whose earlier one is held must not overtake it.
      if (this.held.has(report.evaluationId)) continue;
      try {
        await this.apply(report);
      } catch (err) {
        if (failureKind(err) === 'outage') throw err;
        await this.rejected(id, report, err);
        continue;
      }
      await this.ack(id);
    }
  }

  /** Storage refused the report (or applying it threw): retry a few times, then give up on that one evaluation. */
  private async rejected(id: string, report: AgentReport, err: unknown): Promise<void> {
    const tries = await this.redis.hincrby(this.rejectionsKey, id, 1);
    const cause = describeRejection(err);
    if (tries < this.maxRejections) {
      reportRejections.inc({ action: 'retried' });
      this.log.warn({ err, id, evaluationId: report.evaluationId, tries }, 'storage rejected a report; holding this evaluation\'s reports and retrying');
      this.held.add(report.evaluationId);
      return;
    }
    const reason = `platform error: a ${report.type} report could not be stored after ${tries} tries (${cause})`;
    try {
      const t = await this.deadLetters.fail(report.evaluationId, reason);
      reportRejections.inc({ action: 'dead_lettered' });
      this.log.error({ err, id, evaluationId: report.evaluationId, tries }, 'a report storage keeps rejecting failed its evaluation');
      if (t) {
        evaluationsFinished.inc({ language: t.evaluation.language, runtime: t.evaluation.runtime, status: 'failed', outcome: 'none' });
        await this.bus.publishStatus(t.event, t.evaluation.owner);
      }
    } catch (failErr) {
      if (failureKind(failErr) === 'outage') throw failErr;
      // Failing it was refused too: the report is dropped all the same, so the pipeline goes on.
      reportRejections.inc({ action: 'dropped' });
      this.log.fatal({ err, failErr, id, evaluationId: report.evaluationId }, 'a report storage rejects could not even fail its evaluation; DROPPING the report');
    }
    // Its later reports may go now: the evaluation is terminal, so they change nothing.
    this.held.delete(report.evaluationId);
    await this.ack(id);
  }

  /** Acknowledges an entry and forgets its rejection count, in one round trip. */
  private async ack(id: string): Promise<void> {
    await this.redis.multi().xack(this.keys.reports, this.keys.reportsGroup, id).hdel(this.rejectionsKey, id).exec();
  }

  private async createGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.reports, this.keys.reportsGroup, '0', 'MKSTREAM');
    } catch (err) {
      if (!String(err).includes('BUSYGROUP')) throw err;
    }
  }

  /** `>`: new entries (blocking briefly); an id: this consumer's pending entries after it. */
  private async read(cursor: string): Promise<Entry[]> {
    const args = ['GROUP', this.keys.reportsGroup, this.consumer, 'COUNT', BATCH] as const;
    const res = (cursor === '>'
      ? await this.redis.xreadgroup(...args, 'BLOCK', BLOCK_MS, 'STREAMS', this.keys.reports, '>')
      : await this.redis.xreadgroup(...args, 'STREAMS', this.keys.reports, cursor)) as [string, Entry[]][] | null;
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
        await this.bus.publish(await this.evaluations.appendOutput(id, report.stream, outputBytes(report)));
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
          // The exact bytes, whatever they are; a report without them (an older agent) has text only.
          stdout: r.stdoutBase64 !== undefined ? Buffer.from(r.stdoutBase64, 'base64') : r.stdout,
          stderr: r.stderrBase64 !== undefined ? Buffer.from(r.stderrBase64, 'base64') : r.stderr,
          stdoutTruncated: r.stdoutTruncated,
          stderrTruncated: r.stderrTruncated,
          durationMs: Math.round(r.durationMs),
          ...(r.pidsLimitHit === true ? { pidsLimitHit: true } : {}),
          ...(r.compile ? { compile: r.compile } : {}),
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
