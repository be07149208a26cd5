/**
 * How many executor agents one lane should have. Pure: the local driver and the nomad driver both
 * feed it what they observe and act on the answer, so the rule lives here once and is tested on
 * its own (test/scaling.test.ts).
 *
 * The rule:
 * - enough agents for what is running now, plus enough to drain the queue within
 *   `drainTargetSeconds` at the observed per-agent throughput (one agent per `tasksPerAgent`
 *   queued tasks while throughput is still unknown);
 * - never fewer than `min` nor more than `max`, and never more new agents than the host or cluster
 *   has room for (`capacity`) or than `maxStepUp` in one decision, so a burst does not stampede;
 * - scaling down only retires agents that have been idle past the idle timeout: an agent that is
 *   running a task is never chosen to stop.
 */

/** What a driver observed for one lane. */
export interface LaneLoad {
  /** Tasks waiting in the lane. */
  readonly queued: number;
  /** Tasks being run by the lane's agents. */
  readonly running: number;
  /** Agents serving the lane now, including ones still starting. */
  readonly agents: number;
  /** Of those, agents that have had no task for longer than the idle timeout. */
  readonly idleAgents: number;
  /** Tasks per second one agent finished recently; 0 or less when not yet known. */
  readonly throughputPerAgent: number;
}

/** The lane's configuration. */
export interface ScalingPolicy {
  readonly min: number;
  readonly max: number;
  /** Tasks one agent runs at once. */
  readonly tasksPerAgent: number;
  /** Aim to empty the queue within this many seconds. */
  readonly drainTargetSeconds: number;
  /** At most this many agents started by one decision. */
  readonly maxStepUp: number;
}

export interface ScalingDecision {
  /** The number of agents the lane should have after acting. */
  readonly desired: number;
  /** desired - agents: positive starts agents, negative retires idle ones. */
  readonly delta: number;
  /** Why, for the decision log. */
  readonly reason: string;
}

/**
 * @param capacity how many more agents the host or cluster can hold now (free slots).
 */
export function decideAgents(load: LaneLoad, policy: ScalingPolicy, capacity: number): ScalingDecision {
  const perAgent = Math.max(1, policy.tasksPerAgent);
  const forRunning = Math.ceil(Math.max(0, load.running) / perAgent);
  const queued = Math.max(0, load.queued);
  const forQueue =
    queued === 0
      ? 0
      : load.throughputPerAgent > 0
        ? Math.ceil(queued / (load.throughputPerAgent * Math.max(1, policy.drainTargetSeconds)))
        : Math.ceil(queued / perAgent);
  const wanted = clamp(forRunning + forQueue, policy.min, policy.max);
  const agents = Math.max(0, load.agents);

  if (wanted > agents) {
    const room = Math.max(0, Math.min(capacity, policy.maxStepUp));
    const desired = agents + Math.min(wanted - agents, room);
    if (desired === agents) return { desired, delta: 0, reason: `want ${wanted} but no capacity` };
    const limitedBy = desired < wanted ? (room === capacity ? ' (capped by capacity)' : ' (capped by step)') : '';
    return { desired, delta: desired - agents, reason: `queue ${queued}, running ${load.running}: scale up to ${desired}${limitedBy}` };
  }
  if (wanted < agents) {
    // Only idle agents may go; and never below min even if more are idle.
    const retire = Math.min(Math.max(0, load.idleAgents), agents - wanted);
    const desired = agents - retire;
    if (retire === 0) return { desired, delta: 0, reason: `want ${wanted} but no agent is idle` };
    return { desired, delta: -retire, reason: `retire ${retire} idle agent(s)` };
  }
  return { desired: agents, delta: 0, reason: 'steady' };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), Math.max(min, max));
}

/** What one agent of a pool may use at most: `slots` tasks at the largest limits a task may ask for. */
export interface AgentSize {
  readonly memoryMb: number;
  readonly cpus: number;
}

/** An agent process's own footprint (Node, Wasm workers), on top of what its tasks may use. */
export const AGENT_OVERHEAD_MB = 128;

/**
 * The resource class of a pool's agents, derived from the limits its tasks may have: an agent is
 * sized for `slots` tasks at the server's maximum limits, so a lane whose tasks are small can run
 * more, smaller agents. The Nomad driver asks for this size per dispatched agent.
 */
export function agentSize(slots: number, maxTask: { memoryMb: number; cpus: number }): AgentSize {
  const n = Math.max(1, slots);
  return { memoryMb: AGENT_OVERHEAD_MB + n * maxTask.memoryMb, cpus: n * maxTask.cpus };
}

/**
 * How many agents of `size` a host (or node) can hold in all: bounded by its memory (keeping
 * `reserveMb` for everything else) and by `agentsPerCore` per CPU core. At least 1, so a small
 * host still runs something.
 */
export function hostAgentCapacity(host: { cpus: number; memoryMb: number }, size: AgentSize, agentsPerCore = 2, reserveMb = 1024): number {
  const byMemory = Math.floor(Math.max(0, host.memoryMb - reserveMb) / Math.max(1, size.memoryMb));
  const byCpu = Math.floor(Math.max(1, host.cpus) * Math.max(0, agentsPerCore));
  return Math.max(1, Math.min(byMemory, byCpu));
}
