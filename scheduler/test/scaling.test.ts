import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideAgents, type LaneLoad, type ScalingPolicy } from '../src/scaling.js';

const policy: ScalingPolicy = { min: 1, max: 8, tasksPerAgent: 2, drainTargetSeconds: 10, maxStepUp: 4 };
const idle: LaneLoad = { queued: 0, running: 0, agents: 1, idleAgents: 0, throughputPerAgent: 0 };

// [name, load, policy overrides, capacity, expected desired, expected delta]
const cases: [string, Partial<LaneLoad>, Partial<ScalingPolicy>, number, number, number][] = [
  ['empty lane keeps min', {}, {}, 10, 1, 0],
  ['empty lane with min 0 and no agents stays at 0', { agents: 0 }, { min: 0 }, 10, 0, 0],
  ['starts up to min from nothing', { agents: 0 }, { min: 2 }, 10, 2, 2],
  ['unknown throughput: one agent per tasksPerAgent queued', { queued: 6 }, {}, 10, 3, 2],
  ['known throughput: enough to drain within the target', { queued: 100, throughputPerAgent: 2 }, {}, 10, 5, 4],
  ['running tasks keep their agents', { running: 4, agents: 2 }, {}, 10, 2, 0],
  ['running plus queue', { running: 4, queued: 4, agents: 2 }, {}, 10, 4, 2],
  ['capped by max', { queued: 1000, agents: 6 }, {}, 10, 8, 2],
  ['capped by step', { queued: 1000, agents: 1 }, {}, 10, 5, 4],
  ['capped by capacity', { queued: 1000, agents: 1 }, {}, 2, 3, 2],
  ['no capacity: no change', { queued: 1000, agents: 1 }, {}, 0, 1, 0],
  ['negative capacity treated as none', { queued: 10, agents: 1 }, {}, -3, 1, 0],
  ['scale down retires only idle agents', { agents: 5, idleAgents: 2 }, {}, 10, 3, -2],
  ['scale down never below min', { agents: 5, idleAgents: 5 }, { min: 2 }, 10, 2, -3],
  ['busy agents are not retired', { agents: 5, idleAgents: 0, running: 2 }, {}, 10, 5, 0],
  ['all idle above max: down to min', { agents: 10, idleAgents: 10 }, {}, 10, 1, -9],
  ['above max and busy: only the idle beyond max go', { agents: 10, idleAgents: 3, running: 20 }, {}, 10, 8, -2],
  ['tasksPerAgent 0 is treated as 1', { queued: 3 }, { tasksPerAgent: 0 }, 10, 3, 2],
  ['min above max: min wins', { agents: 0 }, { min: 3, max: 1 }, 10, 3, 3],
];

describe('decideAgents (pure scaling rule shared by the local and nomad drivers)', () => {
  for (const [name, load, over, capacity, desired, delta] of cases) {
    it(name, () => {
      const d = decideAgents({ ...idle, ...load }, { ...policy, ...over }, capacity);
      assert.equal(d.desired, desired, d.reason);
      assert.equal(d.delta, delta, d.reason);
      assert.ok(d.reason.length > 0);
    });
  }

  it('is monotone in queue depth (more work never means fewer agents)', () => {
    let last = 0;
    for (let queued = 0; queued <= 200; queued += 5) {
      const { desired } = decideAgents({ ...idle, agents: 0, queued }, { ...policy, maxStepUp: 100 }, 100);
      assert.ok(desired >= last, `queued ${queued}: ${desired} < ${last}`);
      last = desired;
    }
  });
});

describe('agent sizing and host capacity', () => {
  it('sizes an agent for its slots at the largest limits', async () => {
    const { agentSize, AGENT_OVERHEAD_MB } = await import('../src/scaling.js');
    assert.deepEqual(agentSize(2, { memoryMb: 512, cpus: 1 }), { memoryMb: AGENT_OVERHEAD_MB + 1024, cpus: 2 });
    assert.deepEqual(agentSize(0, { memoryMb: 64, cpus: 0.5 }), { memoryMb: AGENT_OVERHEAD_MB + 64, cpus: 0.5 });
  });

  const table: [string, { cpus: number; memoryMb: number }, { memoryMb: number; cpus: number }, number][] = [
    ['cpu-bound host', { cpus: 2, memoryMb: 64_000 }, { memoryMb: 640, cpus: 1 }, 4],
    ['memory-bound host', { cpus: 16, memoryMb: 4096 }, { memoryMb: 1000, cpus: 1 }, 3],
    ['tiny host still runs one', { cpus: 1, memoryMb: 512 }, { memoryMb: 2000, cpus: 1 }, 1],
  ];
  for (const [name, host, size, expected] of table) {
    it(name, async () => {
      const { hostAgentCapacity } = await import('../src/scaling.js');
      assert.equal(hostAgentCapacity(host, size), expected);
    });
  }
});
