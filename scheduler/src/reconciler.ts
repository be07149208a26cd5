import type { Logger } from 'pino';
import type { DeadLetterRepository, EvaluationRepository } from '@crucible/storage';
import type { Evaluation, Task } from '@crucible/storage/domain';
import { taskRetries } from './metrics.js';
import type { TaskQueue } from './task-queue.js';

/** The task an evaluation describes, as an agent receives it. */
export function taskOf(evaluation: Evaluation, requestId?: string): Task {
  return {
    evaluationId: evaluation.id,
    language: evaluation.language,
    runtime: evaluation.runtime,
    files: evaluation.files,
    stdin: evaluation.stdin,
    args: evaluation.args,
    limits: evaluation.limits,
    ...(evaluation.containerRuntime ? { containerRuntime: evaluation.containerRuntime } : {}),
    requestId,
  };
}

/**
 * Closes the gaps between PostgreSQL (the truth) and Redis (which may lose everything): an
 * unfinished evaluation whose task no lane holds is handed back to the queue — or, when it has
 * already used every attempt, failed into the dead-letter queue, so a task that keeps getting
 * lost cannot loop forever. Enqueueing is idempotent (job id = evaluation id), so a race with the
 * gateway's own enqueue is harmless.
 */
export class Reconciler {
  constructor(
    private readonly evaluations: EvaluationRepository,
    private readonly queue: TaskQueue,
    private readonly log: Logger,
    /** Unfinished evaluations younger than this are left alone: their enqueue or report may be in flight. */
    private readonly graceMs: number,
    private readonly deadLetters: DeadLetterRepository,
    /** Attempts an evaluation may use (1 + platform-fault retries). */
    private readonly maxAttempts: number,
  ) {}

  /** One pass; returns how many evaluations were re-queued. Pages through every unfinished one. */
  async reconcile(now = Date.now()): Promise<number> {
    let requeued = 0;
    let failed = 0;
    let after: Evaluation | undefined;
    for (;;) {
      const page = await this.evaluations.unfinished(PAGE, after && { createdAt: after.createdAt, id: after.id });
      for (const evaluation of page) {
        if (now - Date.parse(evaluation.createdAt) < this.graceMs) continue;
        if (await this.queue.has(evaluation.id, evaluation.priority)) continue;
        if (evaluation.status !== 'queued' && evaluation.attempts >= this.maxAttempts) {
          const t = await this.deadLetters.fail(evaluation.id, `gave up after ${evaluation.attempts} attempt(s): the task was lost by the queue`);
          if (t) failed++;
          continue;
        }
        if (evaluation.status !== 'queued') {
          const t = await this.evaluations.transition(evaluation.id, 'queued', { error: 'task lost by the queue; re-queued' });
          if (!t) continue;
          taskRetries.inc({ reason: 'reconciled' });
        }
        await this.queue.enqueue(taskOf(evaluation), evaluation.priority);
        requeued++;
      }
      if (page.length < PAGE) break;
      after = page.at(-1);
    }
    if (requeued > 0 || failed > 0) this.log.warn({ requeued, failed }, 'reconciler re-queued lost tasks');
    await this.evaluations.purgeIdempotencyKeys().catch((err) => this.log.warn({ err }, 'purging idempotency keys failed'));
    return requeued;
  }
}

const PAGE = 500;
