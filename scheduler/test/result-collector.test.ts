import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeReport, type AgentReport } from '@crucible/executor-agent/protocol';
import type { EvaluationEvent } from '@crucible/storage/domain';
import { EventBus } from '../src/event-bus.js';
import { ResultCollector } from '../src/result-collector.js';
import { BACKENDS, fixture, newEvaluation, silent } from './fixtures.js';

const until = async (check: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

// The outage (a real PostgreSQL stopped and started) and rejected reports: result-collector-failures.test.ts.
for (const backend of BACKENDS) describe(`ResultCollector (real Redis stream + ${backend})`, () => {
  it('persists reports in order, then publishes them with their seq', async () => {
    await using f = await fixture(backend);
    const e = await newEvaluation(f.storage);
    const bus = new EventBus(f.redis, f.keys);
    const seen: EvaluationEvent[] = [];
    await using _ = await bus.follow(e.id, (ev) => seen.push(ev));
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters);
    await collector.start();
    const reports: AgentReport[] = [
      { type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' },
      { type: 'output', stream: 'stdout', data: 'hello ', evaluationId: e.id, agentId: 'a' },
      { type: 'output', stream: 'stdout', data: 'world\n', evaluationId: e.id, agentId: 'a' },
      {
        type: 'result', evaluationId: e.id, agentId: 'a',
        result: { outcome: 'success', exitCode: 0, signal: null, stdout: 'hello world\n', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 3.4 },
      },
    ];
    for (const r of reports) await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
    await until(async () => (await f.storage.evaluations.get(e.id))?.status === 'completed');
    await until(async () => seen.length === 4);
    await collector.stop();
    await bus.close();

    const stored = await f.storage.evaluations.get(e.id);
    assert.equal(stored?.stdout, 'hello world\n');
    assert.equal(stored?.outcome, 'success');
    assert.equal(stored?.attempts, 1);
    const events = await f.storage.evaluations.events(e.id);
    assert.deepEqual(events.map((ev) => [ev.seq, ev.type]), [[1, 'status'], [2, 'status'], [3, 'stdout'], [4, 'stdout'], [5, 'status']]);
    assert.deepEqual(seen.map((ev) => ev.seq), [2, 3, 4, 5]);
    const pending = (await f.redis.xpending(f.keys.reports, f.keys.reportsGroup)) as [number];
    assert.equal(pending[0], 0, 'every report acknowledged');
  });

  it("stores the agent's pids-limit evidence with the result (and false without it)", async () => {
    await using f = await fixture(backend);
    const hit = await newEvaluation(f.storage);
    const quiet = await newEvaluation(f.storage);
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, new EventBus(f.redis, f.keys), silent, 'c1', f.storage.deadLetters);
    await collector.start();
    const result = { outcome: 'timeout', exitCode: null, signal: 'SIGKILL', stdout: '', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 3000 } as const;
    for (const [e, extra] of [[hit, { pidsLimitHit: true }], [quiet, {}]] as const) {
      await f.redis.xadd(f.keys.reports, '*', ...encodeReport({ type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' }));
      await f.redis.xadd(f.keys.reports, '*', ...encodeReport({ type: 'result', evaluationId: e.id, agentId: 'a', result: { ...result, ...extra } }));
    }
    await until(async () => (await f.storage.evaluations.get(quiet.id))?.status === 'completed' && (await f.storage.evaluations.get(hit.id))?.status === 'completed');
    await collector.stop();
    assert.equal((await f.storage.evaluations.get(hit.id))?.pidsLimitHit, true);
    assert.equal((await f.storage.evaluations.get(quiet.id))?.pidsLimitHit, false);
  });

  it('ignores reports for an evaluation already cancelled', async () => {
    await using f = await fixture(backend);
    const e = await newEvaluation(f.storage);
    await f.storage.evaluations.transition(e.id, 'cancelled');
    const bus = new EventBus(f.redis, f.keys);
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters);
    await collector.apply({ type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' });
    await collector.apply({ type: 'output', stream: 'stdout', data: 'late', evaluationId: e.id, agentId: 'a' });
    await collector.apply({
      type: 'result', evaluationId: e.id, agentId: 'a',
      result: { outcome: 'killed', exitCode: 137, signal: 'SIGKILL', stdout: 'late', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
    });
    await collector.stop();
    await bus.close();
    const stored = await f.storage.evaluations.get(e.id);
    assert.equal(stored?.status, 'cancelled');
    assert.equal((await f.storage.evaluations.events(e.id)).length, 2);
  });

  it('ends a run killed for a cancellation as cancelled, keeping its output', async () => {
    await using f = await fixture(backend);
    const e = await newEvaluation(f.storage);
    const bus = new EventBus(f.redis, f.keys);
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters);
    await collector.apply({ type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' });
    await f.redis.set(f.keys.cancelled(e.id), '1');
    await collector.apply({
      type: 'result', evaluationId: e.id, agentId: 'a',
      result: { outcome: 'killed', exitCode: null, signal: 'SIGKILL', stdout: 'so far\n', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 5 },
    });
    await collector.stop();
    await bus.close();
    const stored = await f.storage.evaluations.get(e.id);
    assert.equal(stored?.status, 'cancelled');
    assert.equal(stored?.outcome, 'killed');
    assert.equal(stored?.stdout, 'so far\n');
    assert.equal(stored?.error, 'cancelled by request');
  });

  it('retries a platform fault by re-queueing, and fails when no retry is left', async () => {
    await using f = await fixture(backend);
    const e = await newEvaluation(f.storage);
    const bus = new EventBus(f.redis, f.keys);
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters);
    await collector.apply({ type: 'status', status: 'provisioning', evaluationId: e.id, agentId: 'a' });
    await collector.apply({ type: 'fault', error: 'engine gone', retrying: true, evaluationId: e.id, agentId: 'a' });
    assert.equal((await f.storage.evaluations.get(e.id))?.status, 'queued');
    await collector.apply({ type: 'status', status: 'provisioning', evaluationId: e.id, agentId: 'b' });
    await collector.apply({ type: 'fault', error: 'engine gone again', retrying: false, evaluationId: e.id, agentId: 'b' });
    await collector.stop();
    await bus.close();
    const stored = await f.storage.evaluations.get(e.id);
    assert.equal(stored?.status, 'failed');
    assert.equal(stored?.error, 'engine gone again');
    assert.equal(stored?.attempts, 2);
  });
});
