import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeReport } from '@crucible/executor-agent/protocol';
import type { EvaluationRepository } from '@crucible/storage';
import { EventBus } from '../src/event-bus.js';
import { ResultCollector } from '../src/result-collector.js';
import { fixture, newEvaluation, silent } from './fixtures.js';

/** Storage whose `transition` fails `failures` times first, as a PostgreSQL outage would. */
function failingFirst(evaluations: EvaluationRepository, failures: number): EvaluationRepository {
  return new Proxy(evaluations, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'transition' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      // Shaped as node-postgres reports a server that is down (failure-kind.ts: an outage, held).
      const outage = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return (...args: unknown[]) => (failures-- > 0 ? Promise.reject(outage()) : value.apply(target, args));
    },
  });
}

/**
 * `settle`, the collector's part of an orderly shutdown (issue 12): once the agents have stopped,
 * it returns only when their last reports are in storage, so stopping Redis next loses nothing.
 */
describe('ResultCollector.settle (real Redis stream + PGlite)', () => {
  const result = (id: string) =>
    encodeReport({
      type: 'result', evaluationId: id, agentId: 'a',
      result: { outcome: 'success', exitCode: 0, signal: null, stdout: 'last\n', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 1 },
    });

  it('returns true only once every report in the stream has been applied', async () => {
    await using f = await fixture();
    const e = await newEvaluation(f.storage);
    const bus = new EventBus(f.redis, f.keys);
    // Applying takes two retries (about 2 s): settle must wait them out.
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, failingFirst(f.storage.evaluations, 2), bus, silent, 'c1', f.storage.deadLetters);
    await collector.start();
    try {
      await f.redis.xadd(f.keys.reports, '*', ...encodeReport({ type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' }));
      await f.redis.xadd(f.keys.reports, '*', ...result(e.id));
      assert.equal(await collector.settle(30_000), true);
      const stored = await f.storage.evaluations.get(e.id);
      assert.deepEqual([stored?.status, stored?.stdout], ['completed', 'last\n']);
    } finally {
      await collector.stop();
      await bus.close();
    }
  });

  it('gives up after its time, leaving the report in the stream for the next start', async () => {
    await using f = await fixture();
    const e = await newEvaluation(f.storage);
    const bus = new EventBus(f.redis, f.keys);
    const collector = new ResultCollector(f.redis.duplicate(), f.keys, failingFirst(f.storage.evaluations, 1_000_000), bus, silent, 'c1', f.storage.deadLetters);
    await collector.start();
    try {
      await f.redis.xadd(f.keys.reports, '*', ...result(e.id));
      assert.equal(await collector.settle(1500), false);
      assert.equal((await f.storage.evaluations.get(e.id))?.status, 'queued');
    } finally {
      await collector.stop();
      await bus.close();
    }
    const pending = (await f.redis.xpending(f.keys.reports, f.keys.reportsGroup)) as [number];
    assert.equal(pending[0], 1, 'the report is still pending in Redis');
  });
});
