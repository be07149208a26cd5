import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { DoneMessage, EngineWorkerData, FromWorker, OutputMessage, RunJob, ToWorker } from './worker-protocol.js';

/** How long a program gets to stop when asked before its worker is terminated. */
const STOP_GRACE_MS = 200;
/** An engine that has not loaded by then is reported unavailable rather than awaited forever. */
const LOAD_TIMEOUT_MS = 60_000;

export type WorkerName = 'quickjs-worker' | 'wasi-worker';

/** Why the parent stopped a job. */
export type StopReason = 'timeout' | 'killed' | 'output_limit';

export interface WorkerSpec {
  name: WorkerName;
  resourceLimits?: ResourceLimits;
}

export interface JobEvents {
  onStart(): void;
  onOutput(message: OutputMessage): void;
}

/** How a job ended, as far as the parent could see. */
export interface Execution {
  /** The worker's own report; absent when the worker was terminated or died first. */
  done?: DoneMessage;
  /** The first reason the parent asked the job to stop, if it did. */
  stopped?: StopReason;
  /** The worker is gone (terminated after a missed stop, or crashed) and must be replaced. */
  lost: boolean;
  /** Why the worker died, when nobody asked it to stop. */
  crash?: Error;
}

export interface RunningJob {
  /** Asks the job to stop; terminates the worker if it has not stopped within a short grace. */
  stop(reason: StopReason): void;
  finished: Promise<Execution>;
}

interface CurrentJob {
  events: JobEvents;
  stopped?: StopReason;
  settle(execution: Execution): void;
}

/**
 * One engine worker thread, loaded and kept for many jobs. The deadline is enforced from here,
 * outside the engine: a job still running at `timeoutMs` is asked to stop, and a worker that does
 * not comply (QuickJS inside one long native call, a WASI guest spinning without system calls) is
 * terminated, which always works.
 */
export class WarmWorker {
  private job?: CurrentJob;
  private dead = false;

  private constructor(
    private readonly worker: Worker,
    private readonly stopFlag: Int32Array,
    readonly version: string,
  ) {
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => this.lose(error));
    worker.on('exit', (code) => this.lose(new Error(`engine worker exited with code ${code}`)));
    // An idle warm worker must not keep the process alive (a running job's deadline timer does).
    // Adding a 'message' listener refs the worker's port again, hence unref after listening.
    worker.unref();
  }

  /** Starts a worker and waits until its engine has loaded. */
  static start(spec: WorkerSpec): Promise<WarmWorker> {
    const stopBuffer = new SharedArrayBuffer(4);
    const worker = spawn(spec, { stopFlag: stopBuffer });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => onError(new Error(`engine worker did not load within ${LOAD_TIMEOUT_MS / 1000} s`)), LOAD_TIMEOUT_MS);
      timer.unref();
      const onMessage = (message: FromWorker) => {
        if (message.type !== 'ready') return;
        off();
        resolve(new WarmWorker(worker, new Int32Array(stopBuffer), message.version));
      };
      const onError = (error: Error) => {
        off();
        void worker.terminate();
        reject(error);
      };
      const onExit = (code: number) => onError(new Error(`engine worker exited with code ${code} while loading`));
      const off = () => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  run(job: RunJob, options: { timeoutMs: number; signal?: AbortSignal; events: JobEvents }): RunningJob {
    if (this.dead || this.job) throw new Error('engine worker is not available');
    const { signal } = options;
    let graceTimer: NodeJS.Timeout | undefined;
    let resolve!: (execution: Execution) => void;
    const finished = new Promise<Execution>((r) => (resolve = r));
    const current: CurrentJob = {
      events: options.events,
      settle: (execution) => {
        if (this.job !== current) return;
        this.job = undefined;
        clearTimeout(deadline);
        clearTimeout(graceTimer);
        signal?.removeEventListener('abort', onAbort);
        resolve(execution);
      },
    };
    const stop = (reason: StopReason) => {
      if (this.job !== current || current.stopped) return;
      current.stopped = reason;
      Atomics.store(this.stopFlag, 0, 1);
      this.send({ type: 'stop' });
      graceTimer = setTimeout(() => void this.terminate(), STOP_GRACE_MS);
    };
    const deadline = setTimeout(() => stop('timeout'), options.timeoutMs);
    const onAbort = () => stop('killed');

    Atomics.store(this.stopFlag, 0, 0);
    this.job = current;
    signal?.addEventListener('abort', onAbort, { once: true });
    this.send(job);
    if (signal?.aborted) stop('killed');
    return { stop, finished };
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWorker): void {
    const job = this.job;
    if (!job) return;
    if (message.type === 'start') job.events.onStart();
    else if (message.type === 'output') job.events.onOutput(message);
    else if (message.type === 'done') job.settle({ done: message, stopped: job.stopped, lost: false });
  }

  private lose(error: Error): void {
    this.dead = true;
    const job = this.job;
    job?.settle({ stopped: job.stopped, lost: true, ...(!job.stopped && { crash: error }) });
  }
}

/**
 * Creates the thread. From compiled JavaScript the entry is the sibling `.js` file. From TypeScript
 * source under tsx (tests), Node 20 resolves a worker's entry before `--import tsx` hooks are in
 * place in that thread, so a small bootstrap registers tsx inside the thread first.
 */
function spawn(spec: WorkerSpec, workerData: EngineWorkerData): Worker {
  const options = { workerData, ...(spec.resourceLimits && { resourceLimits: spec.resourceLimits }) };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${spec.name}.js`, import.meta.url), options);
  const entry = new URL(`./${spec.name}.ts`, import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
