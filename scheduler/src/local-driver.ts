import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';

export interface LocalDriverOptions {
  /** How many agent processes to start with (the autoscaler moves this within the pool's min and max). */
  agents: number;
  /** The agent's entry script (dist/main.js, or src/main.ts when running from source). */
  entry: string;
  /** Environment for the agents: only what they need (Redis, Docker), never database credentials. */
  env: Record<string, string>;
  /** How long agents get to finish running tasks on shutdown before they are killed. */
  graceMs: number;
  /** The pool's name (its lanes, e.g. `high,normal,low`); passed to agents as CRUCIBLE_LANES when set. */
  lanes?: string;
}

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** Beyond the agents' own grace, how long before a process that ignores SIGTERM is killed. */
const KILL_MARGIN_MS = 3000;

interface AgentProcess {
  id: string;
  child: ChildProcess;
  retiring: boolean;
}

/**
 * The `local` driver for one pool of agents: runs executor-agent processes on this host, starts
 * and retires them when told (autoscaler.ts decides), and restarts any that die unasked (with
 * backoff, so a crashing agent cannot spin the CPU).
 */
export class LocalDriver {
  readonly name = 'local';
  private readonly agents = new Map<string, AgentProcess>();
  private stopping = false;
  private restartDelay = RESTART_MIN_MS;
  /** Agents that died unasked and are waiting for their restart: still counted as the pool's. */
  private pendingRestarts = 0;

  constructor(
    private readonly opts: LocalDriverOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (let i = 0; i < this.opts.agents; i++) this.startAgent();
  }

  /** Agent processes alive now, including ones still starting and ones retiring. */
  get running(): number {
    return this.agents.size;
  }

  /** Agents the pool has, as the scaler should count them: not retiring, plus those about to restart. */
  get size(): number {
    return this.activeIds().length + this.pendingRestarts;
  }

  /** Ids (as in their heartbeats) of the agents not already retiring. */
  activeIds(): string[] {
    return [...this.agents.values()].filter((a) => !a.retiring).map((a) => a.id);
  }

  /** Starts one more agent; returns its id. */
  startAgent(): string {
    const id = `${this.opts.lanes ?? 'agent'}-${process.pid}-${randomBytes(3).toString('hex')}`.replaceAll(',', '+');
    // Running from TypeScript source (tests) needs the tsx loader and the source condition.
    const execArgv = this.opts.entry.endsWith('.ts') ? ['--import', 'tsx', '--conditions=source'] : [];
    const env: Record<string, string> = { ...this.opts.env, CRUCIBLE_AGENT_ID: id, CRUCIBLE_AGENT_SLOT: String(this.agents.size) };
    if (this.opts.lanes) env.CRUCIBLE_LANES = this.opts.lanes;
    const child = spawn(process.execPath, [...execArgv, this.opts.entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    const agent: AgentProcess = { id, child, retiring: false };
    this.agents.set(id, agent);
    const startedAt = Date.now();
    this.log.info({ pid: child.pid, agent: id }, 'agent process started');
    child.on('exit', (code, signal) => {
      this.agents.delete(id);
      if (this.stopping || agent.retiring) return;
      // An agent that ran a while before dying gets a quick restart; one that dies at once backs off.
      this.restartDelay = Date.now() - startedAt > RESTART_MAX_MS ? RESTART_MIN_MS : Math.min(this.restartDelay * 2, RESTART_MAX_MS);
      this.log.warn({ pid: child.pid, code, signal, restartInMs: this.restartDelay }, 'agent process exited; restarting');
      this.pendingRestarts++;
      setTimeout(() => {
        this.pendingRestarts--;
        if (!this.stopping) this.startAgent();
      }, this.restartDelay).unref();
    });
    return id;
  }

  /** Asks an agent to finish and exit (SIGTERM: it stops taking work; it was chosen because it is idle). */
  retire(id: string): boolean {
    const agent = this.agents.get(id);
    if (!agent || agent.retiring) return false;
    agent.retiring = true;
    this.terminate(agent.child);
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.agents.values()].map((a) => this.terminate(a.child)));
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when the process has exited. */
  private terminate(child: ChildProcess): Promise<void> {
    return new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), this.opts.graceMs + KILL_MARGIN_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
