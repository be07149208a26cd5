import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

export interface LocalDriverOptions {
  /** How many agent processes to keep running. */
  agents: number;
  /** The agent's entry script (dist/main.js, or src/main.ts when running from source). */
  entry: string;
  /** Environment for the agents: only what they need (Redis, Docker), never database credentials. */
  env: Record<string, string>;
  /** How long agents get to finish running tasks on shutdown before they are killed. */
  graceMs: number;
}

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/**
 * The `local` driver: runs executor-agent processes on this host and restarts any that die
 * (with backoff, so a crashing agent cannot spin the CPU).
 */
export class LocalDriver {
  readonly name = 'local';
  private readonly children = new Set<ChildProcess>();
  private stopping = false;
  private restartDelay = RESTART_MIN_MS;

  constructor(
    private readonly opts: LocalDriverOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (let i = 0; i < this.opts.agents; i++) this.spawnAgent(i);
  }

  get running(): number {
    return this.children.size;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.graceMs);
          child.once('exit', () => clearTimeout(kill));
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  private spawnAgent(slot: number): void {
    // Running from TypeScript source (tests) needs the tsx loader and the source condition.
    const execArgv = this.opts.entry.endsWith('.ts') ? ['--import', 'tsx', '--conditions=source'] : [];
    const child = spawn(process.execPath, [...execArgv, this.opts.entry], {
      env: { ...this.opts.env, CRUCIBLE_AGENT_SLOT: String(slot) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.children.add(child);
    const startedAt = Date.now();
    this.log.info({ pid: child.pid, slot }, 'agent process started');
    child.on('exit', (code, signal) => {
      this.children.delete(child);
      if (this.stopping) return;
      // An agent that ran a while before dying gets a quick restart; one that dies at once backs off.
      this.restartDelay = Date.now() - startedAt > RESTART_MAX_MS ? RESTART_MIN_MS : Math.min(this.restartDelay * 2, RESTART_MAX_MS);
      this.log.warn({ pid: child.pid, code, signal, restartInMs: this.restartDelay }, 'agent process exited; restarting');
      setTimeout(() => !this.stopping && this.spawnAgent(slot), this.restartDelay).unref();
    });
  }
}
