import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentLifetime } from '../src/lifetime.js';

async function until(ready: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !ready(); await sleep(10)) assert.ok(Date.now() < end, 'timed out waiting');
}

test('an agent with no task past the idle timeout retires; one running a task does not', async () => {
  const reasons: string[] = [];
  const busy = new AgentLifetime({ idleTimeoutMs: 100, maxTasks: 0, checkEveryMs: 20 }, (r) => reasons.push(`busy: ${r}`));
  busy.start();
  busy.taskStarted();
  const idle = new AgentLifetime({ idleTimeoutMs: 100, maxTasks: 0, checkEveryMs: 20 }, (r) => reasons.push(`idle: ${r}`));
  idle.start();
  // Waited for, not slept on: on a loaded host the checks run late, never early. The busy one was
  // checked as often as the idle one meanwhile, so its silence means something.
  await until(() => reasons.length >= 1);
  await sleep(200);
  assert.deepEqual(reasons, ['idle: idle for 100 ms']);
  // Its task ends: now it is idle, and retires a timeout later, once.
  busy.taskFinished();
  await until(() => reasons.length >= 2);
  await sleep(200);
  assert.deepEqual(reasons, ['idle: idle for 100 ms', 'busy: idle for 100 ms']);
  busy.stop();
  idle.stop();
});

test('max tasks: the agent retires when its Nth task finishes', () => {
  const reasons: string[] = [];
  const life = new AgentLifetime({ idleTimeoutMs: 0, maxTasks: 2 }, (r) => reasons.push(r));
  life.start();
  life.taskStarted();
  life.taskFinished();
  assert.deepEqual(reasons, []);
  life.taskStarted();
  life.taskFinished();
  life.taskStarted();
  life.taskFinished();
  assert.deepEqual(reasons, ['finished 2 task(s) (max 2)']);
});

test('0 disables both rules (the local driver keeps agents)', async () => {
  const reasons: string[] = [];
  const life = new AgentLifetime({ idleTimeoutMs: 0, maxTasks: 0 }, (r) => reasons.push(r));
  life.start();
  for (let i = 0; i < 50; i++) (life.taskStarted(), life.taskFinished());
  await sleep(100);
  assert.deepEqual(reasons, []);
});
