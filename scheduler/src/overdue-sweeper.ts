import type { Logger } from 'pino';
import type { DeadLetterRepository, EvaluationRepository } from '@crucible/storage';
import { STATUSES, isTerminal, type Evaluation } from '@crucible/storage/domain';
import type { EventBus } from './event-bus.js';
import { evaluationsFinished, oldestUnfinishedAge, overdueFailed } from './metrics.js';
import type { TaskQueue } from './task-queue.js';

export interface OverdueOptions {
  /** Time past an evaluation's own deadline before it is declared lost (agents and reports may lag). */
  graceMs: number;
  /** Added (or the timeout, if longer) for container runs: a compiled language compiles first. */
  compileAllowanceMs: number;
}

/**
 * The backstop invariant (issue 12): no evaluation stays provisioning or running past its
 * deadline plus a bounded grace, whatever the cause — a lost agent, reports that never arrive, a
 * bug. Each pass fails those into the dead-letter queue (through storage's state machine, so a
 * result that lands first wins and nothing is failed twice), then asks whatever may still run it
 * to stop (the cancel path agents honour). Failing first matters: the cancel marker would otherwise
 * turn a late `killed` result into `cancelled`.
 *
 * Queued evaluations are the reconciler's: one whose task no lane holds is re-queued or
 * dead-lettered there, and one a lane holds is waiting for an agent (a backlog, not a loss).
 * The pass also refreshes the oldest-unfinished-age gauge, so a stuck one shows on a dashboard
 * and alerts (CrucibleEvaluationStuck) even if this backstop itself fails.
 */
export class OverdueSweeper {
  constructor(
    private readonly evaluations: EvaluationRepository,
    private readonly deadLetters: DeadLetterRepository,
    private readonly queue: TaskQueue,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly options: OverdueOptions,
  ) {}

  /** One pass; returns how many evaluations it ended. */
  async sweep(): Promise<number> {
    const ages = await this.evaluations.oldestUnfinishedAges();
    for (const status of UNFINISHED) oldestUnfinishedAge.set({ status }, ages[status] ?? 0);
    let ended = 0;
    for (;;) {
      const page = await this.evaluations.overdue({ ...this.options, limit: PAGE });
      let progress = 0;
      for (const evaluation of page) if (await this.end(evaluation)) progress++;
      ended += progress;
      // A full page again only if this one changed something; else the next pass sees the rest.
      if (page.length < PAGE || progress === 0) break;
    }
    return ended;
  }

  private async end(e: Evaluation): Promise<boolean> {
    const reason =
      `platform error: no result within the deadline (${e.status} since ${e.updatedAt}, timeout ${e.limits.timeoutMs} ms` +
      `${e.runtime === 'container' ? ` + compile allowance ${Math.max(e.limits.timeoutMs, this.options.compileAllowanceMs)} ms` : ''}` +
      ` + grace ${this.options.graceMs} ms passed); its agent or its reports were lost, and its sandbox was told to stop`;
    const t = await this.deadLetters.fail(e.id, reason);
    if (!t) return false;
    overdueFailed.inc({ status: e.status });
    evaluationsFinished.inc({ language: t.evaluation.language, runtime: t.evaluation.runtime, status: 'failed', outcome: 'none' });
    this.log.warn({ evaluationId: e.id, status: e.status, since: e.updatedAt }, 'overdue evaluation failed by the backstop');
    // Best effort from here: the evaluation is already failed; a kill or an event that does not
    // get through leaves a sandbox its own deadline ends anyway, and watchers re-read storage.
    await this.queue.cancel(e.id, e.priority).catch((err) => this.log.warn({ err, evaluationId: e.id }, 'asking agents to stop an overdue run failed'));
    await this.bus.publishStatus(t.event, t.evaluation.owner).catch((err) => this.log.warn({ err, evaluationId: e.id }, 'publishing a failed status failed'));
    return true;
  }
}

const UNFINISHED = STATUSES.filter((s) => !isTerminal(s));
const PAGE = 200;
