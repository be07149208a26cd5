import type { Logger } from 'pino';
import type { DeadLetterRepository, EvaluationRepository } from '@crucible/storage';
import type { CreateEvaluationInput } from '@crucible/storage';
import {
  isTerminal, LimitExceededError, resolveLimits,
  type Evaluation, type Limits, type SourceFile,
} from '@crucible/storage/domain';
import { KNOWN_LANGUAGES, type LanguageInfo } from '@crucible/executor-agent/protocol';
import { taskOf, type EventBus, type TaskQueue } from '@crucible/scheduler';
import { ApiError, invalidRequest, notFound } from './errors.js';
import { assertSameRequest } from './idempotency.js';
import type { SubmitRequest } from './submit-request.js';
import { EvaluationRequest } from './schemas.js';
import { validate } from './validation.js';

export interface ServiceDeps {
  evaluations: EvaluationRepository;
  deadLetters: DeadLetterRepository;
  /** Backpressure: above this many waiting tasks, submissions get 503 `queue_full`. */
  maxQueueDepth: number;
  queue: TaskQueue;
  bus: EventBus;
  languages: () => Promise<LanguageInfo[]>;
  maxLimits: Limits;
  defaultLimits: Limits;
  log: Logger;
}

/** The evaluation use cases behind the HTTP routes: submit, cancel, wait. */
export class EvaluationService {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Validates and accepts one evaluation. It is stored first and enqueued after: if the enqueue
   * fails, the row is still there and the scheduler's reconciler enqueues it, so nothing accepted is lost.
   * With an idempotency key, a key the owner already used returns that evaluation (`created: false`).
   */
  async submit(owner: string, body: unknown, requestId?: string, idempotencyKey?: string): Promise<{ evaluation: Evaluation; created: boolean }> {
    if (idempotencyKey !== undefined) {
      const existing = await this.deps.evaluations.byIdempotencyKey(owner, idempotencyKey);
      if (existing) {
        // A replay need not find its language still available: it creates nothing.
        assertSameRequest(await this.prepare(owner, body, requestId, { replay: true }), existing, idempotencyKey);
        return { evaluation: existing, created: false };
      }
    }
    const input = await this.prepare(owner, body, requestId);
    await this.checkRoom(1);
    if (idempotencyKey === undefined) {
      const evaluation = await this.deps.evaluations.create(input);
      await this.announceAndEnqueue(evaluation, requestId);
      return { evaluation, created: true };
    }
    return this.acceptOnce(input, idempotencyKey);
  }

  /**
   * Backpressure: how many more tasks the queue takes now; throws 503 `queue_full` (with
   * Retry-After) when none. Redis being unreachable does not refuse work: PostgreSQL holds it and
   * the reconciler enqueues it later.
   */
  async checkRoom(wanted: number): Promise<number> {
    const waiting = await withTimeout(this.deps.queue.waiting(), ENQUEUE_TIMEOUT_MS).catch(() => 0);
    const room = this.deps.maxQueueDepth - waiting;
    if (room < Math.min(1, wanted)) {
      throw new ApiError(503, 'queue_full', `the queue is full (${waiting} waiting, at most ${this.deps.maxQueueDepth}); retry later`,
        { waiting, maxQueueDepth: this.deps.maxQueueDepth }, true, { 'Retry-After': String(QUEUE_FULL_RETRY_AFTER_S) });
    }
    return room;
  }

  /** Validates a request and resolves everything the stored evaluation needs. */
  async prepare(owner: string, body: unknown, requestId?: string, opts: { replay?: boolean } = {}): Promise<CreateEvaluationInput> {
    const req = validate<SubmitRequest>(EvaluationRequest, body);
    const known = KNOWN_LANGUAGES.find((l) => l.id === req.language);
    if (!known) {
      throw new ApiError(400, 'unknown_language', `unknown language "${req.language}"; GET /v1/languages lists them`, {
        field: 'language',
        known: KNOWN_LANGUAGES.map((l) => l.id),
      });
    }
    const runtime = req.runtime ?? 'auto';
    if (runtime !== 'auto' && runtime !== known.runtime) {
      throw invalidRequest(`language "${known.id}" runs in the ${known.runtime} runtime, not ${runtime}`, { field: 'runtime' });
    }
    if (req.containerRuntime && known.runtime !== 'container') {
      throw invalidRequest(`containerRuntime applies to container languages; "${known.id}" runs in ${known.runtime}`, { field: 'containerRuntime' });
    }
    // Availability is advice from heartbeats in Redis; without it, accept and let the queue decide.
    const info = (await this.deps.languages().catch(() => [])).find((l) => l.id === known.id);
    if (!opts.replay && info && !info.available && info.reason !== 'no executor agent is running') {
      throw new ApiError(400, 'language_unavailable', `language "${known.id}" is unavailable: ${info.reason}`, { field: 'language', reason: info.reason });
    }
    let limits: Limits;
    try {
      limits = resolveLimits(req.limits, {}, this.deps.maxLimits, this.deps.defaultLimits);
    } catch (err) {
      if (err instanceof LimitExceededError) {
        throw invalidRequest(err.message, { field: `limits.${err.field}`, maximum: err.maximum });
      }
      throw err;
    }
    const files: SourceFile[] = req.files
      ? req.files.map((f) => ({ name: f.name, content: f.content, encoding: f.encoding ?? 'utf8' }))
      : [{ name: defaultFileName(known.id), content: req.code ?? '', encoding: 'utf8' }];
    if (new Set(files.map((f) => f.name)).size !== files.length) throw invalidRequest('file names must be unique', { field: 'files' });

    return {
      owner,
      language: known.id,
      runtime: known.runtime,
      priority: req.priority ?? 'normal',
      files,
      stdin: req.stdin ?? '',
      args: req.args ?? [],
      limits,
      metadata: req.metadata ?? {},
      ...(req.containerRuntime ? { containerRuntime: req.containerRuntime } : {}),
      requestId,
    };
  }

  /**
   * Stores one prepared evaluation and enqueues it (the batch path: room was checked for the
   * batch). With `idempotencyKey`, an evaluation the key already created is returned instead.
   */
  async accept(input: CreateEvaluationInput, idempotencyKey?: string): Promise<Evaluation> {
    if (idempotencyKey === undefined) {
      const evaluation = await this.deps.evaluations.create(input);
      await this.announceAndEnqueue(evaluation, input.requestId);
      return evaluation;
    }
    return (await this.acceptOnce(input, idempotencyKey)).evaluation;
  }

  /**
   * Creates and enqueues under an idempotency key. A concurrent duplicate that won the race is
   * returned instead, provided it is the same request (422 otherwise).
   */
  private async acceptOnce(input: CreateEvaluationInput, idempotencyKey: string): Promise<{ evaluation: Evaluation; created: boolean }> {
    const { evaluation, created } = await this.deps.evaluations.createOnce(input, idempotencyKey);
    if (created) await this.announceAndEnqueue(evaluation, input.requestId);
    else assertSameRequest(input, evaluation, idempotencyKey);
    return { evaluation, created };
  }

  /**
   * The evaluation `owner` created with `idempotencyKey` within the last 24 h, if any; 422 when
   * `body` is not the request that created it.
   */
  async replay(owner: string, idempotencyKey: string, body: unknown, requestId?: string): Promise<Evaluation | undefined> {
    const existing = await this.deps.evaluations.byIdempotencyKey(owner, idempotencyKey);
    if (existing) assertSameRequest(await this.prepare(owner, body, requestId, { replay: true }), existing, idempotencyKey);
    return existing;
  }

  /**
   * Retries a dead letter: the evaluation goes back to `queued` in storage (the truth) and is then
   * enqueued with a fresh attempt count. 404 for an unknown or already retried letter.
   */
  async retryDeadLetter(id: string): Promise<Evaluation> {
    let t;
    try {
      t = await this.deps.deadLetters.retry(id);
    } catch (err) {
      if ((err as Error).name === 'StorageInputError') throw notFound(`dead letter ${id}`);
      throw err;
    }
    await this.deps.bus.publishStatus(t.event, t.evaluation.owner).catch(() => undefined);
    await withTimeout(this.deps.queue.enqueue(taskOf(t.evaluation), t.evaluation.priority, { fresh: true }), ENQUEUE_TIMEOUT_MS).catch((err) =>
      this.deps.log.warn({ err, evaluationId: t.evaluation.id }, 'enqueue failed; the reconciler will enqueue it'),
    );
    return t.evaluation;
  }

  private async announceAndEnqueue(evaluation: Evaluation, requestId: string | undefined): Promise<void> {
    const owner = evaluation.owner;
    // Live lists learn of the new evaluation at once; the watcher feed is advice, so a failure here is ignored.
    const created = { evaluationId: evaluation.id, seq: 1, type: 'status' as const, data: { status: 'queued' }, at: evaluation.createdAt };
    await withTimeout(this.deps.bus.publishStatus(created, owner), ENQUEUE_TIMEOUT_MS).catch(() => undefined);
    try {
      // bee-queue's client queues commands while Redis is away; do not hold the request for that.
      await withTimeout(this.deps.queue.enqueue(taskOf(evaluation, requestId), evaluation.priority), ENQUEUE_TIMEOUT_MS);
    } catch (err) {
      // Stored is accepted: the reconciler enqueues it once Redis is back. Failing the request here
      // would invite a retry that runs the program twice.
      this.deps.log.warn({ err, evaluationId: evaluation.id }, 'enqueue failed; the reconciler will enqueue it');
    }
  }

  async get(owner: string, id: string): Promise<Evaluation> {
    const evaluation = await this.deps.evaluations.get(id, owner);
    if (!evaluation) throw notFound(`evaluation ${id}`);
    return evaluation;
  }

  /**
   * Cancels a queued or running evaluation; a terminal one is returned unchanged. A running one is
   * killed by its agent, whose report then ends it `cancelled` with the output it had produced; if
   * no report comes in time (the agent is gone), it is ended here.
   */
  async cancel(owner: string, id: string): Promise<Evaluation> {
    const evaluation = await this.get(owner, id);
    if (isTerminal(evaluation.status)) return evaluation;
    await this.deps.queue.cancel(id, evaluation.priority);
    if (evaluation.status !== 'queued') {
      const ended = await this.waitForTerminal(owner, id, CANCEL_REPORT_WAIT_MS);
      if (isTerminal(ended.status)) return ended;
    }
    const t = await this.deps.evaluations.transition(id, 'cancelled', { error: 'cancelled by request' });
    if (t) await this.deps.bus.publishStatus(t.event, t.evaluation.owner);
    return t?.evaluation ?? (await this.get(owner, id));
  }

  /** Waits up to `ms` for the evaluation to reach a terminal status; returns its latest state. */
  async waitForTerminal(owner: string, id: string, ms: number): Promise<Evaluation> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    await using _follow = await this.deps.bus.follow(id, (event) => {
      if (event.type === 'status' && isTerminal(event.data.status as Evaluation['status'])) wake();
    });
    const deadline = Date.now() + ms;
    // Polling storage too covers a pub/sub message lost while (re)subscribing.
    for (;;) {
      const current = await this.get(owner, id);
      const left = deadline - Date.now();
      if (isTerminal(current.status) || left <= 0) return current;
      await Promise.race([woken, sleep(Math.min(left, 1000))]);
    }
  }
}

const ENQUEUE_TIMEOUT_MS = 2000;
/** What a `queue_full` answer tells clients to wait: about the time agents need to drain a little. */
const QUEUE_FULL_RETRY_AFTER_S = 5;
/** How long a cancel waits for the agent's report of the killed run before ending it itself. */
const CANCEL_REPORT_WAIT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function defaultFileName(language: string): string {
  const names: Record<string, string> = {
    python: 'main.py',
    'python-ml': 'main.py',
    javascript: 'main.js',
    'javascript-node': 'main.js',
    bash: 'main.sh',
    // Compiled languages compile their files by extension.
    c: 'main.c',
    cpp: 'main.cpp',
    wasm: 'main.wat',
  };
  return names[language] ?? 'main';
}
