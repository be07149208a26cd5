import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeReport, type AgentReport } from '@crucible/executor-agent/protocol';
import type { RunResult } from '@crucible/storage/domain';
import { EventBus } from '../src/event-bus.js';
import { ResultCollector } from '../src/result-collector.js';
import { BACKENDS, fixture, newEvaluation, silent } from './fixtures.js';
import { interleave, pending, rejections, run, until } from './report-helpers.js';

// A duration of 10^12 ms does not fit the integer column: PostgreSQL (and PGlite) raise 22003
// "out of range" for this report whatever its bytes — a real rejection by the database, not an
// injected one, and one that does not depend on how output is encoded.
const POISON: Partial<RunResult> = { durationMs: 1e12 };

for (const backend of BACKENDS) {
  describe(`ResultCollector: a report storage rejects (real Redis + ${backend})`, () => {
    it('fails only that evaluation, into the dead-letter queue with the cause, while every other one completes', async () => {
      await using f = await fixture(backend);
      const bus = new EventBus(f.redis, f.keys);
      const others = await Promise.all(Array.from({ length: 8 }, () => newEvaluation(f.storage)));
      const poisoned = await newEvaluation(f.storage);
      const poisonRun = run(poisoned.id, 'before\n', POISON);
      // A report of the poisoned evaluation after the rejected one: it must not overtake it.
      poisonRun.push({ type: 'output', stream: 'stdout', data: 'after\n', evaluationId: poisoned.id, agentId: 'a' });
      // The poisoned run first, so every other report is behind its rejected one in the stream.
      const reports = interleave([poisonRun, ...others.map((e, i) => run(e.id, `out ${i}\n`))]);
      const before = await rejections();
      await using collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters, { retryDelayMs: 100 });
      await collector.start();
      for (const r of reports) await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
      await until('every evaluation terminal', async () => {
        const all = await Promise.all([...others, poisoned].map((e) => f.storage.evaluations.get(e.id)));
        return all.every((e) => e?.status === 'completed' || e?.status === 'failed');
      });
      await until('every entry acknowledged', async () => (await pending(f)) === 0);
      await collector.stop();
      await bus.close();

      for (const [i, e] of others.entries()) {
        const stored = await f.storage.evaluations.get(e.id);
        assert.equal(stored?.status, 'completed', `evaluation ${i} completed`);
        assert.equal(stored?.stdout, `out ${i}\n`);
      }
      const failed = await f.storage.evaluations.get(poisoned.id);
      assert.equal(failed?.status, 'failed');
      assert.match(failed?.error ?? '', /platform error: a result report could not be stored after 3 tries/);
      assert.match(failed?.error ?? '', /22003/, 'the cause is named');
      const letters = await f.storage.deadLetters.list();
      assert.deepEqual(letters.items.map((l) => l.evaluationId), [poisoned.id], 'in the dead-letter queue, alone');
      assert.equal(letters.items[0]?.reason, failed?.error);
      // Order kept: the output written before the rejected result is there, the one after never overtook it.
      const events = await f.storage.evaluations.events(poisoned.id);
      assert.deepEqual(events.map((ev) => [ev.type, ev.data.status ?? ev.data.data]), [
        ['status', 'queued'], ['status', 'running'], ['stdout', 'before\n'], ['status', 'failed'],
      ]);
      const after = await rejections();
      assert.equal(after.retried! - before.retried!, 2, 'tried 3 times: 2 retries');
      assert.equal(after.dead_lettered! - before.dead_lettered!, 1);
      assert.equal(await f.redis.exists(`${f.keys.reports}:rejections`), 0, 'no rejection count left behind');
    });

    it('a restarted collector on the same Redis, with the poison entry left pending, does not stall and keeps the count', async () => {
      await using f = await fixture(backend);
      const bus = new EventBus(f.redis, f.keys);
      const poisoned = await newEvaluation(f.storage);
      await using first = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'gone-scheduler', f.storage.deadLetters, {
        // Tries once, then would wait a minute: it is stopped before.
        retryDelayMs: 60_000,
      });
      await first.start();
      const before = await rejections();
      for (const r of run(poisoned.id, 'x', POISON)) await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
      await until('the first rejection counted', async () => (await f.redis.hlen(`${f.keys.reports}:rejections`)) === 1);
      await first.stop();
      assert.equal(await pending(f), 1, 'the poison entry is left pending by the stopped collector');

      // Reports of another evaluation arrive while no collector runs.
      const healthy = await newEvaluation(f.storage);
      for (const r of run(healthy.id, 'fine\n')) await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
      // A new process: another consumer name (names carry the pid), claiming orphans at once.
      await using second = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'new-scheduler', f.storage.deadLetters, {
        retryDelayMs: 100,
        claimIdleMs: 0,
      });
      await second.start();
      await until('the healthy evaluation completed', async () => (await f.storage.evaluations.get(healthy.id))?.status === 'completed');
      await until('the poisoned evaluation failed', async () => (await f.storage.evaluations.get(poisoned.id))?.status === 'failed');
      await until('every entry acknowledged', async () => (await pending(f)) === 0);
      await second.stop();
      await bus.close();
      const after = await rejections();
      assert.equal(after.retried! - before.retried!, 2, 'the count survived the restart: 3 tries in all, not 3 more');
      assert.equal(after.dead_lettered! - before.dead_lettered!, 1);
      assert.equal((await f.storage.evaluations.get(healthy.id))?.stdout, 'fine\n');
    });
  });
}
