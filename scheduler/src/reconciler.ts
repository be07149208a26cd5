import type { Logger } from 'pino';
import type { EvaluationRepository } from '@crucible/storage';
import type { Evaluation, Task } from '@crucible/storage/domain';
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
 * unfinished evaluation whose task no lane holds is handed back to the queue. Enqueueing is
 * idempotent (job id = evaluation id), so a race with the gateway's own enqueue is harmless.
 */
export class Reconciler {
  constructor(
    private readonly evaluations: EvaluationRepository,
    private readonly queue: TaskQueue,
    private readonly log: Logger,
    /** Unfinished evaluations younger than this are left alone: their enqueue or report may be in flight. */
    private readonly graceMs: number,
  ) {}

  async reconcile(now = Date.now()): Promise<number> {
    let requeued = 0;
    for (const evaluation of await this.evaluations.unfinished(500)) {
      if (now - Date.parse(evaluation.createdAt) < this.graceMs) continue;
      if (await this.queue.has(evaluation.id, evaluation.priority)) continue;
      if (evaluation.status !== 'queued') {
        const t = await this.evaluations.transition(evaluation.id, 'queued', { error: 'task lost by the queue; re-queued' });
        if (!t) continue;
      }
      await this.queue.enqueue(taskOf(evaluation), evaluation.priority);
      requeued++;
    }
    if (requeued > 0) this.log.warn({ requeued }, 'reconciler re-queued lost tasks');
    return requeued;
  }
}
