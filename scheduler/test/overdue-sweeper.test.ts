import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeReport, type AgentReport } from '@crucible/executor-agent/protocol';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';
import { EventBus } from '../src/event-bus.js';
import { oldestUnfinishedAge } from '../src/metrics.js';
import { OverdueSweeper } from '../src/overdue-sweeper.js';
import { ResultCollector } from '../src/result-collector.js';
import { TaskQueue } from '../src/task-queue.js';
import { BACKENDS, fixture, newEvaluation, REDIS_URL, silent } from './fixtures.js';

async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

const GRACE_MS = 1000;

for (const backend of BACKENDS) {
  describe(`OverdueSweeper: the backstop (real Redis + ${backend})`, () => {
    it('ends an evaluation whose reports disappeared failed, within deadline + grace by the platform\'s clock, and leaves a running control alone', async () => {
      await using f = await fixture(backend);
      const bus = new EventBus(f.redis, f.keys);
      const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
      await using _queue = { [Symbol.asyncDispose]: () => queue.close() };
      await queue.ready();
      await using collector = new ResultCollector(f.redis.duplicate(), f.keys, f.storage.evaluations, bus, silent, 'c1', f.storage.deadLetters, { retryDelayMs: 100 });
      await collector.start();
      const lost = await newEvaluation(f.storage, { limits: { ...DEFAULT_LIMITS, timeoutMs: 500 } });
      // Control: running too, with a deadline far away.
      const control = await newEvaluation(f.storage, { limits: { ...DEFAULT_LIMITS, timeoutMs: 60_000 } });
      // Control: a short run whose reports arrive: it completes, the backstop has nothing to do.
      const finished = await newEvaluation(f.storage, { limits: { ...DEFAULT_LIMITS, timeoutMs: 500 } });
      const send = (r: AgentReport) => f.redis.xadd(f.keys.reports, '*', ...encodeReport(r));
      for (const e of [lost, control, finished]) await send({ type: 'status', status: 'running', evaluationId: e.id, agentId: 'a' });
      await until('all three running', async () =>
        (await Promise.all([lost, control, finished].map((e) => f.storage.evaluations.get(e.id)))).every((e) => e?.status === 'running'));
      // The lost run's result is written and disappears before any collector can read it (one script).
      const result = { outcome: 'success' as const, exitCode: 0, signal: null, stdout: 'never seen', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 1 };
      const dropped = await f.redis.eval(
        "local id = redis.call('XADD', KEYS[1], '*', ARGV[1], ARGV[2]); return redis.call('XDEL', KEYS[1], id)",
        1, f.keys.reports, ...encodeReport({ type: 'result', evaluationId: lost.id, agentId: 'a', result }),
      );
      assert.equal(dropped, 1, 'the result entry was written and deleted');
      await send({ type: 'result', evaluationId: finished.id, agentId: 'a', result: { ...result, stdout: 'done' } });

      // Agents hear kills on the cancel channel: listen as one.
      const sub = f.redis.duplicate();
      await using _sub = { [Symbol.asyncDispose]: async () => sub.disconnect() };
      const kills: string[] = [];
      sub.on('message', (_channel, id: string) => kills.push(id));
      await sub.subscribe(f.keys.cancelChannel);

      const sweeper = new OverdueSweeper(f.storage.evaluations, f.storage.deadLetters, queue, bus, silent, { graceMs: GRACE_MS, compileAllowanceMs: 0 });
      let ended = 0;
      await until('the lost evaluation failed', async () => {
        ended += await sweeper.sweep();
        return (await f.storage.evaluations.get(lost.id))?.status === 'failed';
      });
      // A few more passes: the control must stay untouched, and nothing is ended twice.
      for (let i = 0; i < 3; i++) ended += await sweeper.sweep();
      await until('the kill was announced', async () => kills.includes(lost.id));
      sub.disconnect();
      await collector.stop();
      await bus.close();

      assert.equal(ended, 1, 'exactly one evaluation ended by the backstop');
      const failed = (await f.storage.evaluations.get(lost.id))!;
      assert.match(failed.error ?? '', /^platform error: no result within the deadline \(running since .*timeout 500 ms \+ grace 1000 ms passed\)/);
      const letters = await f.storage.deadLetters.list();
      assert.deepEqual(letters.items.map((l) => l.evaluationId), [lost.id]);
      // Judged by the platform's own timestamps: not before its deadline + grace, and not long after.
      const runningAt = Date.parse((await f.storage.evaluations.events(lost.id)).find((e) => e.data.status === 'running')!.at);
      const late = Date.parse(failed.finishedAt!) - runningAt;
      assert.ok(late >= 500 + GRACE_MS, `not failed before its deadline + grace (${late} ms)`);
      assert.ok(late <= 500 + GRACE_MS + 30_000, `failed within deadline + grace + a generous slack (${late} ms)`);
      assert.equal(await f.redis.exists(f.keys.cancelled(lost.id)), 1, 'marked, so an agent that still holds it stops it');

      assert.equal((await f.storage.evaluations.get(control.id))?.status, 'running', 'the running control is not touched');
      assert.equal((await f.storage.evaluations.get(finished.id))?.status, 'completed');
      assert.equal(kills.includes(control.id) || kills.includes(finished.id), false, 'no kill for the controls');

      // The gauge: the oldest running evaluation (the control) is as old as the database says; none queued.
      const ages = await f.storage.evaluations.oldestUnfinishedAges();
      assert.equal(ages.queued, undefined);
      const sinceControl = (Date.now() - Date.parse(control.createdAt)) / 1000;
      assert.ok(ages.running! > 0 && ages.running! <= sinceControl + 5, `running age ${ages.running} s`);
      const gauge = Object.fromEntries((await oldestUnfinishedAge.get()).values.map((v) => [v.labels.status, v.value]));
      assert.equal(gauge.queued, 0);
      assert.ok(gauge.running! > 0);
    });
  });
}
