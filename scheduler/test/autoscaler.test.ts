import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { register } from 'prom-client';
import type { AgentHeartbeat } from '@crucible/executor-agent/protocol';
import { Autoscaler } from '../src/autoscaler.js';
import { LocalDriver } from '../src/local-driver.js';
import type { LaneDepth } from '../src/task-queue.js';
import { silent } from './fixtures.js';

describe('Autoscaler with the local driver (real child processes)', () => {
  it('starts agents for a deep queue within max and capacity, and retires idle ones down to min', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-scaler-'));
    const script = join(dir, 'agent.mjs');
    writeFileSync(script, `setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`);
    const driver = new LocalDriver({ agents: 1, entry: script, env: { PATH: process.env.PATH ?? '' }, graceMs: 500, lanes: 'high,normal,low' }, silent);
    let depths: LaneDepth[] = [
      { name: 'high', depth: 30, running: 0 },
      { name: 'normal', depth: 10, running: 0 },
      { name: 'low', depth: 0, running: 0 },
    ];
    let beats: AgentHeartbeat[] = [];
    const scaler = new Autoscaler(
      [{ name: 'all', lanes: ['high', 'normal', 'low'], policy: { min: 1, max: 4, tasksPerAgent: 2, drainTargetSeconds: 10, maxStepUp: 2 }, driver }],
      { depths: async () => depths, agents: async () => beats },
      { intervalMs: 60_000, idleMs: 1000, hostCapacity: 3 },
      silent,
    );
    scaler.start();
    assert.equal(driver.size, 1, 'starts at min');

    let d = (await scaler.tick()).get('all')!;
    assert.deepEqual([d.desired, d.delta], [3, 2], d.reason);
    assert.equal(driver.size, 3);
    d = (await scaler.tick()).get('all')!;
    assert.equal(d.delta, 0, `host capacity (3) caps it below max (4): ${d.reason}`);

    // The queue drained and every agent has been idle for longer than the idle timeout.
    depths = depths.map((l) => ({ ...l, depth: 0 }));
    const longAgo = new Date(Date.now() - 5000).toISOString();
    beats = driver.activeIds().map((id) => ({ id, node: 'n', lanes: ['high', 'normal', 'low'], running: 0, idleSince: longAgo, lastSeenAt: new Date().toISOString(), languages: [], details: {} }));
    d = (await scaler.tick()).get('all')!;
    assert.deepEqual([d.desired, d.delta], [1, -2], d.reason);
    // Wait for the retired processes to exit (however slow the host); a restart would be pending
    // from the moment one exits, and `size` counts pending restarts.
    for (const end = Date.now() + 30_000; driver.running > 1; await new Promise((r) => setTimeout(r, 50))) {
      assert.ok(Date.now() < end, `retired agents did not exit: ${driver.running} running`);
    }
    assert.equal(driver.running, 1, 'retired agents exited');
    assert.equal(driver.size, 1, 'and are not being restarted');

    const metrics = await register.metrics();
    assert.match(metrics, /crucible_scaling_decisions_total\{pool="all",direction="up"\} 1/);
    assert.match(metrics, /crucible_scaling_decisions_total\{pool="all",direction="down"\} 1/);
    assert.match(metrics, /crucible_scaling_desired_agents\{pool="all"\} 1/);
    await scaler.stop();
    assert.equal(driver.running, 0);
    rmSync(dir, { recursive: true, force: true });
  });
});
