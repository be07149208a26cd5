import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { openStorage } from '@crucible/storage';
import { encodeReport } from '@crucible/executor-agent/protocol';
import { EventBus } from '../src/event-bus.js';
import { ResultCollector } from '../src/result-collector.js';
import { fixture, newEvaluation } from './fixtures.js';
import { OwnPostgres } from './own-postgres.js';
import { pending, rejections, run, until } from './report-helpers.js';

// Issue 19: a real PostgreSQL of the test's own, stopped and started, instead of a proxy that throws.
describe('ResultCollector: a real PostgreSQL outage (own server stopped while reports arrive, then started)', () => {
  it('holds every report while it is down and applies them all once it is back: none lost, none failed', async () => {
    await using pg = await OwnPostgres.start();
    await using f = await fixture('pglite');
    // The collector's storage is the test's own PostgreSQL; the fixture gives Redis and cleanup.
    const storage = await openStorage({ databaseUrl: pg.url, dataDir: '' });
    try {
      const bus = new EventBus(f.redis, f.keys);
      const evaluations = await Promise.all(Array.from({ length: 12 }, () => newEvaluation(storage)));
      const before = await rejections();
      // What the collector logs as rejected, to name the error should one be misclassified.
      const rejectedLogs: string[] = [];
      const log = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, done) { if (String(chunk).includes('rejected')) rejectedLogs.push(String(chunk)); done(); } }));
      await using collector = new ResultCollector(f.redis.duplicate(), f.keys, storage.evaluations, bus, log, 'c1', storage.deadLetters, { retryDelayMs: 200 });
      await collector.start();
      const runs = evaluations.map((e, i) => run(e.id, `out ${i}\n`));
      // The first third goes through while the server is up.
      for (const r of runs.slice(0, 4).flat()) await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
      await until('the first runs applied', async () => (await pending(f)) === 0 && (await storage.evaluations.get(evaluations[3]!.id))?.status === 'completed');
      // Stopped while reports keep arriving.
      const arriving = (async () => {
        for (const r of runs.slice(4).flat()) {
          await f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
          await sleep(20);
        }
      })();
      await pg.stopServer();
      await arriving;
      // The collector read them and holds them (delivered, not acknowledged) — proof the outage was seen.
      await until('reports held during the outage', async () => (await pending(f)) > 0);
      await sleep(1500); // several retry rounds against the stopped server
      assert.ok((await pending(f)) > 0, 'still held while PostgreSQL is down');
      await pg.startServer();
      await until('every evaluation completed', async () => {
        const all = await Promise.all(evaluations.map((e) => storage.evaluations.get(e.id)));
        return all.every((e) => e?.status === 'completed');
      });
      await until('every entry acknowledged', async () => (await pending(f)) === 0);
      await collector.stop();
      await bus.close();
      for (const [i, e] of evaluations.entries()) {
        const stored = await storage.evaluations.get(e.id);
        assert.equal(stored?.stdout, `out ${i}\n`, `evaluation ${i} has its output`);
        assert.equal(stored?.outcome, 'success');
      }
      assert.equal(await storage.deadLetters.count(), 0, 'nothing failed');
      const after = await rejections();
      assert.equal(after.retried, before.retried, `the outage was never taken for a rejection: ${rejectedLogs.join('\n')}`);
      assert.equal(after.dead_lettered, before.dead_lettered);
    } finally {
      await storage.close();
    }
  });
});
