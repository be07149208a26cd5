import type { Logger } from 'pino';
import type { Priority } from '@crucible/storage/domain';
import type { AgentHeartbeat } from '@crucible/executor-agent/protocol';
import type { LocalDriver } from './local-driver.js';
import { initialisePoolMetrics, scalingDecisions, scalingDesired } from './metrics.js';
import { decideAgents, type ScalingDecision, type ScalingPolicy } from './scaling.js';
import type { LaneDepth } from './task-queue.js';

/** A pool of agents serving the same lanes, scaled as one, with the driver that runs them. */
export interface ScaledPool {
  name: string;
  lanes: Priority[];
  policy: ScalingPolicy;
  driver: LocalDriver;
}

export interface AutoscalerSources {
  depths(): Promise<LaneDepth[]>;
  agents(): Promise<AgentHeartbeat[]>;
}

/** Smoothing of the observed per-agent throughput (weight of the newest sample). */
const THROUGHPUT_WEIGHT = 0.3;

/**
 * Observes each pool (lane depth, running tasks, agents' heartbeats) every tick and applies
 * `decideAgents` (scaling.ts, shared with the nomad driver): starts agents, or retires agents idle
 * for longer than `idleMs`. Every decision that changes something is logged and counted.
 */
export class Autoscaler {
  /** The scheduler's `local` driver (see Driver in scheduler.ts). */
  readonly name = 'local';
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly throughput = new Map<string, number>();
  private readonly lastCompleted = new Map<string, number>();
  private lastTickAt = Date.now();

  constructor(
    private readonly pools: ScaledPool[],
    private readonly sources: AutoscalerSources,
    private readonly opts: { intervalMs: number; idleMs: number; hostCapacity: number },
    private readonly log: Logger,
  ) {
    for (const pool of pools) initialisePoolMetrics(pool.name);
  }

  start(): void {
    for (const pool of this.pools) pool.driver.start();
    this.timer = setInterval(() => {
      this.ticking ??= this.tick()
        .then(() => undefined)
        .catch((err) => this.log.warn({ err }, 'scaling tick failed'))
        .finally(() => (this.ticking = undefined));
    }, this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.pools.map((p) => p.driver.stop()));
  }

  /** One observation and decision per pool; returns the decisions (for tests and logs). */
  async tick(now = Date.now()): Promise<Map<string, ScalingDecision>> {
    const [depths, beats] = await Promise.all([this.sources.depths(), this.sources.agents()]);
    const seconds = Math.max(0.001, (now - this.lastTickAt) / 1000);
    this.lastTickAt = now;
    const decisions = new Map<string, ScalingDecision>();
    let total = this.pools.reduce((n, p) => n + p.driver.running, 0);
    for (const pool of this.pools) {
      const ids = new Set(pool.driver.activeIds());
      const mine = beats.filter((b) => ids.has(b.id));
      const lanes = depths.filter((d) => pool.lanes.includes(d.name));
      const idle = mine.filter((b) => b.running === 0 && b.idleSince && now - Date.parse(b.idleSince) > this.opts.idleMs);
      const decision = decideAgents(
        {
          queued: lanes.reduce((n, d) => n + d.depth, 0),
          running: lanes.reduce((n, d) => n + d.running, 0),
          agents: pool.driver.size,
          idleAgents: idle.length,
          throughputPerAgent: this.observeThroughput(pool.name, mine, seconds),
        },
        pool.policy,
        this.opts.hostCapacity - total,
      );
      decisions.set(pool.name, decision);
      scalingDesired.set({ pool: pool.name }, decision.desired);
      if (decision.delta > 0) {
        for (let i = 0; i < decision.delta; i++) pool.driver.startAgent();
        total += decision.delta;
      } else if (decision.delta < 0) {
        // The longest idle go first.
        const retire = idle.sort((a, b) => Date.parse(a.idleSince!) - Date.parse(b.idleSince!)).slice(0, -decision.delta);
        for (const beat of retire) pool.driver.retire(beat.id);
        total -= retire.length;
      }
      if (decision.delta !== 0) {
        scalingDecisions.inc({ pool: pool.name, direction: decision.delta > 0 ? 'up' : 'down' });
        this.log.info({ pool: pool.name, delta: decision.delta, desired: decision.desired, reason: decision.reason }, 'scaling decision');
      }
    }
    return decisions;
  }

  /** Tasks per second per agent over the last tick, from the agents' `completed` counters, smoothed. */
  private observeThroughput(pool: string, beats: AgentHeartbeat[], seconds: number): number {
    let finished = 0;
    for (const beat of beats) {
      const completed = beat.completed ?? 0;
      finished += Math.max(0, completed - (this.lastCompleted.get(beat.id) ?? completed));
      this.lastCompleted.set(beat.id, completed);
    }
    if (beats.length === 0) return this.throughput.get(pool) ?? 0;
    const sample = finished / seconds / beats.length;
    const previous = this.throughput.get(pool);
    // Nothing finished while nothing ran says nothing about speed: keep the previous estimate.
    if (finished === 0 && previous !== undefined) return previous;
    const value = previous === undefined ? sample : previous + THROUGHPUT_WEIGHT * (sample - previous);
    this.throughput.set(pool, value);
    return value;
  }
}
