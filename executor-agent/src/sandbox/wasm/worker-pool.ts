import { WarmWorker, type WorkerSpec } from './warm-worker.js';

/**
 * Keeps engine workers loaded for one engine, so a run never waits for an engine to load: a run
 * takes an idle worker, gives it back when done, and a worker lost to a deadline is replaced in
 * the background. Concurrent runs beyond the idle count get workers of their own, which are
 * closed again when more are idle than wanted.
 */
export class WorkerPool {
  private readonly idle: WarmWorker[] = [];
  private readonly busy = new Set<WarmWorker>();
  private warming?: Promise<void>;
  private closed = false;
  /** The engine version, known once a worker has loaded. */
  version?: string;
  /** Why the last attempt to load the engine failed; cleared by a later success. */
  failure?: string;

  constructor(
    private readonly spec: WorkerSpec,
    private readonly keepWarm: number,
  ) {}

  /** Loads the first worker. Never throws: a failure is kept in `failure`. */
  init(): Promise<void> {
    return this.refill();
  }

  async acquire(): Promise<WarmWorker> {
    for (;;) {
      if (this.closed) throw new Error('the sandbox is closed');
      const idle = this.idle.pop();
      if (idle?.alive) return this.lend(idle);
      if (idle) continue;
      if (!this.warming) return this.lend(await this.startWorker());
      await this.warming;
      if (this.idle.length === 0 && this.failure) throw new Error(this.failure);
    }
  }

  /** Returns a worker after a run; one that is lost or asks to retire is closed and replaced. */
  release(worker: WarmWorker, reusable: boolean): void {
    this.busy.delete(worker);
    if (reusable && worker.alive && !this.closed && this.idle.length < this.keepWarm) this.idle.push(worker);
    else void worker.terminate();
    void this.refill();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.warming;
    const all = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  private lend(worker: WarmWorker): WarmWorker {
    if (this.closed) {
      void worker.terminate();
      throw new Error('the sandbox is closed');
    }
    this.busy.add(worker);
    return worker;
  }

  private refill(): Promise<void> {
    if (this.warming) return this.warming;
    if (this.closed || this.idle.length >= this.keepWarm) return Promise.resolve();
    this.warming = this.startWorker()
      .then(
        (worker) => {
          if (this.closed) void worker.terminate();
          else this.idle.push(worker);
        },
        (error: unknown) => {
          this.failure = error instanceof Error ? error.message : String(error);
        },
      )
      .finally(() => {
        this.warming = undefined;
      });
    return this.warming;
  }

  private async startWorker(): Promise<WarmWorker> {
    const worker = await WarmWorker.start(this.spec);
    this.version = worker.version;
    this.failure = undefined;
    return worker;
  }
}
