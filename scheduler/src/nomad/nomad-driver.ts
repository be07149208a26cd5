import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Priority } from '@crucible/storage/domain';
import { decideAgents, type ScalingPolicy } from '../scaling.js';
import type { LaneDepth } from '../task-queue.js';
import type { AllocationListStub, Job } from './api-types.js';
import { freeAgentSlots, type AgentAsk } from './capacity.js';
import type { NomadClient } from './client.js';
import { watchAllocations } from './allocation-watch.js';
import { ABNORMAL_ALLOCATION_STATUSES, nomadAllocationsEnded, nomadDispatches, nomadReachable } from './metrics.js';

export interface NomadDriverOptions {
  /** The parameterized job dispatched once per agent (jobs/crucible-executor.nomad.hcl). */
  jobId: string;
  lanes: readonly Priority[];
  policy: ScalingPolicy;
  /** Dispatch meta: an agent exits after this long without a task (0: never). */
  idleTimeoutMs: number;
  /** Dispatch meta: an agent exits after this many tasks (0: no limit). */
  maxTasksPerAgent: number;
  /** How often the lanes are looked at even when Nomad reports nothing. */
  intervalMs: number;
  /** Registered when Nomad does not know `jobId` (dev clusters); undefined: an operator registers it (terraform). */
  jobToRegister?: Job;
  /** Called with the status after every tick (to share it with gateways, driver-status.ts). */
  onStatus?: (status: DriverStatus) => Promise<void>;
}

export interface DriverStatus {
  ok: boolean;
  detail: string;
}

/** The queue as the driver sees it. */
export interface LaneSource {
  depths(): Promise<LaneDepth[]>;
}

const BACKOFF_MAX_MS = 30_000;
const DEAD = new Set(['dead']);

/**
 * The `nomad` driver: per lane, asks the pure scaling rule (`decideAgents`) how many agents the
 * lane needs and dispatches `crucible-executor` for each one missing, within the free capacity of
 * ready, eligible, non-draining nodes. Agents retire themselves when idle, so scaling down needs
 * no action here.
 *
 * Nomad's state is the record of which agents exist: every tick recounts the dispatched children
 * that are not dead, so a restarted scheduler continues from what is running instead of
 * dispatching again, and each dispatch carries an idempotency token reused across retries, so a
 * dispatch whose answer was lost is not repeated. A lost or failed allocation needs no rescue
 * here: its agent's tasks go back to the lane through the queue's stall check, and the lane's
 * depth makes the next tick dispatch a replacement.
 */
export class NomadDriver {
  readonly name = 'nomad';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private lastError: string | undefined;
  private lastOkAt = 0;
  private ask: AgentAsk | undefined;
  private readonly laneOf = new Map<string, Priority | null>();
  private readonly watchAbort = new AbortController();
  private watching: Promise<void> | undefined;
  /** Dispatches made by this process, for logs and tests. */
  dispatched = 0;
  /** Allocations seen lost or failed. */
  lostAllocations = 0;

  constructor(
    private readonly opts: NomadDriverOptions,
    private readonly nomad: NomadClient,
    private readonly queue: LaneSource,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.kick();
    this.watching = watchAllocations(this.nomad, {
      jobPrefix: `${this.opts.jobId}/dispatch-`,
      signal: this.watchAbort.signal,
      log: this.log,
      onChange: (alloc) => this.onAllocation(alloc),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watchAbort.abort();
    await Promise.allSettled([this.running, this.watching]);
  }

  /** For /readyz: whether the last conversation with Nomad worked. */
  status(): DriverStatus {
    if (this.lastOkAt === 0 && !this.lastError) return { ok: true, detail: 'connecting to Nomad' };
    if (this.failures > 0) return { ok: false, detail: `Nomad at ${this.nomad.address} unreachable or failing (${this.failures} failed tick(s)): ${this.lastError}` };
    return { ok: true, detail: `Nomad at ${this.nomad.address}` };
  }

  /** Runs a tick now, or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.tick()
      .then(
        () => {
          this.failures = 0;
          this.lastError = undefined;
          this.lastOkAt = Date.now();
          nomadReachable.set(1);
        },
        (err: unknown) => {
          this.failures++;
          this.lastError = err instanceof Error ? err.message : String(err);
          nomadReachable.set(0);
          this.log.warn({ err, failures: this.failures }, 'nomad driver tick failed; backing off');
        },
      )
      .then(() => this.opts.onStatus?.(this.status()))
      .catch((err: unknown) => this.log.warn({ err }, 'publishing the driver status failed'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again && this.failures === 0) {
          this.again = false;
          return this.kick();
        }
        // Nomad unreachable: back off exponentially instead of hammering it.
        const delay = this.failures === 0 ? this.opts.intervalMs : Math.min(BACKOFF_MAX_MS, this.opts.intervalMs * 2 ** this.failures);
        this.timer = setTimeout(() => this.kick(), delay);
        this.timer.unref();
      });
  }

  private onAllocation(alloc: AllocationListStub): void {
    if ((ABNORMAL_ALLOCATION_STATUSES as readonly (string | undefined)[]).includes(alloc.ClientStatus)) {
      this.lostAllocations++;
      nomadAllocationsEnded.inc({ status: alloc.ClientStatus });
      this.log.warn(
        { alloc: alloc.ID, job: alloc.JobID, node: alloc.NodeName, status: alloc.ClientStatus, description: alloc.ClientDescription },
        'agent allocation ended abnormally; its tasks return to the lane through the stall check',
      );
    }
    this.kick();
  }

  private async tick(): Promise<void> {
    await this.ensureJob();
    const prefix = `${this.opts.jobId}/dispatch-`;
    const [nodes, allocs, children, depths] = await Promise.all([
      this.nomad.nodes({ resources: true }),
      this.nomad.allocations({ resources: true }),
      this.nomad.jobs(prefix),
      this.queue.depths(),
    ]);
    // A dispatched child that is not dead is an agent: running, starting, or waiting for room.
    const live = children.value.filter((j) => j.ID?.startsWith(prefix) && !DEAD.has(j.Status ?? '') && !j.Stop);
    const perLane = new Map<Priority, number>();
    for (const child of live) {
      const lane = await this.laneOfChild(child.ID!);
      if (lane) perLane.set(lane, (perLane.get(lane) ?? 0) + 1);
    }
    for (const id of this.laneOf.keys()) if (!live.some((c) => c.ID === id)) this.laneOf.delete(id);
    // Agents waiting for placement will take room that looks free now.
    const placed = new Set(allocs.value.filter((a) => a.JobID?.startsWith(prefix) && (a.ClientStatus === 'pending' || a.ClientStatus === 'running')).map((a) => a.JobID));
    const unplaced = live.filter((c) => !placed.has(c.ID)).length;
    let capacity = Math.max(0, freeAgentSlots(nodes.value, allocs.value, this.ask!) - unplaced);

    // Lanes in priority order, so the high lane gets scarce capacity first.
    for (const lane of this.opts.lanes) {
      const depth = depths.find((d) => d.name === lane);
      const agents = perLane.get(lane) ?? 0;
      const decision = decideAgents(
        { queued: depth?.depth ?? 0, running: depth?.running ?? 0, agents, idleAgents: 0, throughputPerAgent: 0 },
        this.opts.policy,
        capacity,
      );
      if (decision.delta <= 0) continue;
      this.log.info({ lane, agents, desired: decision.desired, reason: decision.reason }, 'dispatching agents');
      for (let i = 0; i < decision.delta; i++) {
        // Agents up to the lane's minimum never retire on idleness, or they would exit and be
        // dispatched again every idle timeout.
        await this.dispatch(lane, agents + i < this.opts.policy.min);
        capacity--;
      }
    }
  }

  private async dispatch(lane: Priority, resident: boolean): Promise<void> {
    // One token per intended agent, reused by the client's retries: a dispatch whose response was
    // lost returns the same child instead of starting a second agent.
    const token = `crucible-${lane}-${randomUUID()}`;
    const res = await this.nomad.dispatch(this.opts.jobId, {
      meta: { lane, max_tasks: String(this.opts.maxTasksPerAgent), idle_timeout_ms: String(resident ? 0 : this.opts.idleTimeoutMs) },
      idempotencyToken: token,
    });
    this.dispatched++;
    nomadDispatches.inc({ lane });
    if (res.DispatchedJobID) this.laneOf.set(res.DispatchedJobID, lane);
    this.log.info({ lane, resident, job: res.DispatchedJobID, eval: res.EvalID }, 'agent dispatched');
  }

  private async laneOfChild(id: string): Promise<Priority | null> {
    let lane = this.laneOf.get(id);
    if (lane === undefined) {
      // Only after a restart: the child's dispatch meta says which lane it serves.
      const job = await this.nomad.job(id);
      const meta = job?.Meta?.lane;
      lane = meta && (this.opts.lanes as readonly string[]).includes(meta) ? (meta as Priority) : null;
      this.laneOf.set(id, lane);
    }
    return lane;
  }

  /** Reads the job's resource ask (for capacity) and registers the job if Nomad lacks it and we may. */
  private async ensureJob(): Promise<void> {
    if (this.ask) return;
    let job = await this.nomad.job(this.opts.jobId);
    if (!job) {
      if (!this.opts.jobToRegister) throw new Error(`Nomad has no job "${this.opts.jobId}": register jobs/crucible-executor.nomad.hcl (terraform/README.md)`);
      await this.nomad.registerJob(this.opts.jobToRegister);
      this.log.info({ job: this.opts.jobId }, 'registered the executor job');
      job = this.opts.jobToRegister;
    }
    if (!job.ParameterizedJob) throw new Error(`Nomad job "${this.opts.jobId}" is not parameterized`);
    const tasks = job.TaskGroups?.[0]?.Tasks ?? [];
    this.ask = {
      cpuMhz: tasks.reduce((n, t) => n + (t.Resources?.CPU ?? 100), 0),
      memoryMb: tasks.reduce((n, t) => n + (t.Resources?.MemoryMB ?? 300), 0),
    };
  }
}
