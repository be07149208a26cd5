/**
 * When an agent retires by itself. Under the nomad driver an agent is a dispatched batch job: it
 * drains its lane and exits once it has been idle for `idleTimeoutMs` or has finished `maxTasks`
 * tasks, so Nomad frees its resources and the scheduler dispatches new agents when work comes
 * back. `maxTasks` is a soft bound: tasks already taken when it is reached still run.
 * 0 disables either rule (the local driver keeps agents forever).
 */
export interface LifetimeOptions {
  idleTimeoutMs: number;
  maxTasks: number;
  /** How often idleness is checked; a tenth of the timeout by default. */
  checkEveryMs?: number;
}

export class AgentLifetime {
  private running = 0;
  private finished = 0;
  private idleSince = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private retired = false;

  constructor(
    private readonly opts: LifetimeOptions,
    private readonly retire: (reason: string) => void,
  ) {}

  start(): void {
    if (this.opts.idleTimeoutMs <= 0) return;
    const every = this.opts.checkEveryMs ?? Math.max(50, Math.min(1000, this.opts.idleTimeoutMs / 10));
    this.idleSince = Date.now();
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  taskStarted(): void {
    this.running++;
  }

  taskFinished(): void {
    this.running = Math.max(0, this.running - 1);
    this.finished++;
    if (this.running === 0) this.idleSince = Date.now();
    if (this.opts.maxTasks > 0 && this.finished >= this.opts.maxTasks) this.end(`finished ${this.finished} task(s) (max ${this.opts.maxTasks})`);
  }

  private check(): void {
    if (this.running === 0 && Date.now() - this.idleSince >= this.opts.idleTimeoutMs) this.end(`idle for ${this.opts.idleTimeoutMs} ms`);
  }

  private end(reason: string): void {
    if (this.retired) return;
    this.retired = true;
    this.stop();
    this.retire(reason);
  }
}
