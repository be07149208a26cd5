import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { waitFor } from './helpers.js';
import { Platform } from './platform.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const js = (code: string, extra: Record<string, unknown> = {}) => ({ language: 'javascript', runtime: 'wasm', code, ...extra });

async function dropKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

describe('queue through the API: idempotency and backpressure (no agents: nothing drains)', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '0', CRUCIBLE_AGENTS_MAX: '0', CRUCIBLE_MAX_QUEUE_DEPTH: '7' } });
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
    if (p) await dropKeys(p.prefix);
  });
  // Keys of work created by the first tests, replayed once the queue is full.
  const key = `k-${Date.now()}`;
  const batchKey = `batch-${Date.now()}`;

  it('the same Idempotency-Key returns the same evaluation, also for 20 parallel duplicates', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => p.request('POST', '/v1/evaluations', js('console.log(1)'), { 'Idempotency-Key': key })));
    const ids = new Set(answers.map((a) => a.json.id));
    assert.equal(ids.size, 1, JSON.stringify(answers.map((a) => [a.status, a.json])));
    assert.deepEqual(answers.map((a) => a.status).sort(), [...Array(19).fill(200), 202]);
    const again = await p.request('POST', '/v1/evaluations', js('console.log(1)'), { 'Idempotency-Key': key });
    assert.equal(again.status, 200);
    assert.equal(again.json.id, [...ids][0]);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    // The same key with another request is a client bug, not a replay: 422, and nothing created.
    const other = await p.request('POST', '/v1/evaluations', js('console.log("other body")'), { 'Idempotency-Key': key });
    assert.equal(other.status, 422, JSON.stringify(other.json));
    assert.equal(other.json.error.code, 'idempotency_key_reused');
    assert.equal(other.json.error.details.evaluationId, [...ids][0]);
    const list = await p.request('GET', '/v1/evaluations?limit=200');
    assert.equal(list.json.items.filter((e: { id: string }) => ids.has(e.id)).length, 1);
    // Equal after defaults and key order: `code` vs one default-named file, default limits spelled out, metadata order.
    const mkey = `m-${Date.now()}`;
    const first = await p.request('POST', '/v1/evaluations', { ...js('console.log(3)'), metadata: { a: 1, b: { c: 2, d: 3 } } }, { 'Idempotency-Key': mkey });
    assert.equal(first.status, 202);
    const same = await p.request('POST', '/v1/evaluations', { ...js('console.log(3)'), metadata: { b: { d: 3, c: 2 }, a: 1 }, priority: 'normal', limits: first.json.limits }, { 'Idempotency-Key': mkey });
    assert.equal(same.status, 200, JSON.stringify(same.json));
    assert.equal(same.json.id, first.json.id);
    const otherLimits = await p.request('POST', '/v1/evaluations', { ...js('console.log(3)'), metadata: { a: 1, b: { c: 2, d: 3 } }, limits: { timeoutMs: 1234 } }, { 'Idempotency-Key': mkey });
    assert.equal(otherLimits.status, 422);
    const bad = await p.request('POST', '/v1/evaluations', js('1'), { 'Idempotency-Key': 'has space' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details.field, 'Idempotency-Key');
  });

  it('a batch resent with the same Idempotency-Key creates nothing twice', async () => {
    const key = batchKey;
    const first = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1'), { language: 'nope', code: '1' }] }, { 'Idempotency-Key': key });
    assert.equal(first.status, 202);
    assert.ok(first.json.items[0].id);
    assert.equal(first.json.items[1].error.code, 'unknown_language');
    const again = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1'), js('2')] }, { 'Idempotency-Key': key });
    assert.equal(again.json.items[0].id, first.json.items[0].id, 'the created item is returned, not created again');
    assert.ok(again.json.items[1].id, 'the item that failed before is created now');
    const list = await p.request('GET', '/v1/evaluations?limit=200');
    assert.equal(list.json.items.filter((e: { id: string }) => e.id === first.json.items[0].id).length, 1);
    // An item resent under the same key with another body gets its own 422; the others are replays.
    const changed = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('changed'), js('2')] }, { 'Idempotency-Key': key });
    assert.equal(changed.json.items[0].error.code, 'idempotency_key_reused');
    assert.equal(changed.json.items[1].id, again.json.items[1].id);
  });

  it('answers 503 queue_full with Retry-After at the maximum depth; a batch gets per-item results; replays are still answered', async () => {
    // Four waiting from the tests above (maximum 7); room for 3 more.
    const one = await p.request('POST', '/v1/evaluations', js('console.log(2)'));
    assert.equal(one.status, 202);
    const batch = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1'), js('2'), { language: 'nope', code: '1' }, js('3')] });
    assert.equal(batch.status, 202);
    const items = batch.json.items as { id?: string; error?: { code: string } }[];
    assert.ok(items[0]!.id && items[1]!.id);
    assert.equal(items[2]!.error?.code, 'unknown_language', 'validation errors stay per item');
    assert.equal(items[3]!.error?.code, 'queue_full');
    const full = await p.request('POST', '/v1/evaluations', js('console.log(3)'));
    assert.equal(full.status, 503);
    assert.equal(full.json.error.code, 'queue_full');
    assert.match(full.json.error.message, /queue is full/);
    assert.ok(Number(full.headers.get('retry-after')) > 0);
    const fullBatch = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1')] });
    assert.equal(fullBatch.status, 503);
    const queue = await p.request('GET', '/v1/queue');
    assert.equal(queue.json.lanes.reduce((n: number, l: { depth: number }) => n + l.depth, 0), 7);
    // A replayed key is not new work: it is answered even when the queue is full, and adds nothing.
    const original = (await p.request('GET', '/v1/evaluations?limit=200')).json.items as { id: string }[];
    const replay = await p.request('POST', '/v1/evaluations', js('console.log(1)'), { 'Idempotency-Key': key });
    assert.equal(replay.status, 200, JSON.stringify(replay.json));
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.ok(original.some((e) => e.id === replay.json.id), 'the replay answers the evaluation created by the first test');
    const batchReplay = await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1'), js('2')] }, { 'Idempotency-Key': batchKey });
    assert.notEqual(batchReplay.status, 503, JSON.stringify(batchReplay.json));
    for (const item of batchReplay.json.items as { id?: string; error?: unknown }[]) {
      assert.ok(item.id && original.some((e) => e.id === item.id), `a replayed batch item is answered, not refused: ${JSON.stringify(item)}`);
    }
    assert.equal((await p.request('POST', '/v1/evaluations/batch', { evaluations: [js('1')] }, { 'Idempotency-Key': `${batchKey}-new` })).status, 503, 'a keyed batch with nothing to replay is refused whole');
    // A new key is still refused: the replays did not make room.
    assert.equal((await p.request('POST', '/v1/evaluations', js('console.log(1)'), { 'Idempotency-Key': `${key}-new` })).status, 503);
    assert.equal((await p.request('GET', '/v1/evaluations?limit=200')).json.items.length, original.length);
    const after = await p.request('GET', '/v1/queue');
    assert.equal(after.json.lanes.reduce((n: number, l: { depth: number }) => n + l.depth, 0), 7);
  });
});

describe('queue through the API: priority, cancellation, lost agents, dead letters (one agent, one slot)', () => {
  let p: Platform;
  let redis: Redis;
  before(async () => {
    p = await Platform.start({
      env: {
        CRUCIBLE_AGENTS: '1', CRUCIBLE_AGENTS_MAX: '1', CRUCIBLE_AGENT_CONCURRENCY: '1',
        CRUCIBLE_TASK_RETRIES: '1', CRUCIBLE_RETRY_BACKOFF_MS: '100', CRUCIBLE_STALL_INTERVAL_MS: '1000',
      },
    });
    redis = new Redis(REDIS_URL);
    await p.waitForLanguage('javascript');
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
    redis?.disconnect();
    if (p) await dropKeys(p.prefix);
  });

  const get = async (id: string) => (await p.request('GET', `/v1/evaluations/${id}`)).json;
  const agentPid = async (): Promise<number> => {
    let pid = 0;
    await waitFor(async () => {
      const beats = Object.values(await redis.hgetall(`${p.prefix}:agents`)).map((b) => JSON.parse(b) as { pid?: number; lastSeenAt: string });
      const live = beats.filter((b) => Date.now() - Date.parse(b.lastSeenAt) < 5000 && b.pid);
      pid = live[0]?.pid ?? 0;
      return live.length === 1;
    }, 60_000);
    return pid;
  };
  const killAgent = async () => {
    const pid = await agentPid();
    process.kill(pid, 'SIGKILL');
    // Its heartbeat stays until pruned; forget it so the next lookup finds the replacement.
    await redis.del(`${p.prefix}:agents`);
  };

  it('serves high before low under a saturated pool, without starving low', async () => {
    // Occupy the only slot, then queue low work first and high work after it.
    const blocker = await p.request('POST', '/v1/evaluations', js('while (true) {}', { priority: 'high', limits: { timeoutMs: 2000 } }));
    await waitFor(async () => (await get(blocker.json.id)).status === 'running');
    const low = await p.request('POST', '/v1/evaluations/batch', { evaluations: Array.from({ length: 10 }, () => js('console.log("low")', { priority: 'low' })) });
    const high = await p.request('POST', '/v1/evaluations/batch', { evaluations: Array.from({ length: 10 }, () => js('console.log("high")', { priority: 'high' })) });
    const ids = [...low.json.items, ...high.json.items].map((e: { id: string }) => e.id);
    await waitFor(async () => (await Promise.all(ids.map(get))).every((e) => e.status === 'completed'), 60_000);
    const done = (await Promise.all(ids.map(get))).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.attempts - b.attempts);
    const order = done.map((e) => e.priority as string);
    assert.deepEqual(order.slice(0, 5), ['high', 'high', 'high', 'high', 'high'], order.join(','));
    assert.ok(order.lastIndexOf('high') > order.indexOf('low'), `low is not starved: ${order.join(',')}`);
    const mean = (lane: string) => order.reduce((n, l, i) => n + (l === lane ? i : 0), 0) / 10;
    assert.ok(mean('high') < mean('low'), order.join(','));
  });

  it('cancels a running evaluation: the sandbox is killed and it ends cancelled', async (t) => {
    const e = await p.request('POST', '/v1/evaluations', js('console.log("started"); while (true) {}', { limits: { timeoutMs: 25_000 } }));
    await waitFor(async () => (await get(e.json.id)).status === 'running');
    const sent = Date.now();
    const cancelled = await p.request('POST', `/v1/evaluations/${e.json.id}/cancel`);
    const answered = Date.now();
    t.diagnostic(`cancel → killed and reported: ${answered - sent} ms`);
    assert.equal(cancelled.json.status, 'cancelled');
    // `killed` means the agent killed the sandbox and reported it (not the fallback after 3 s).
    assert.equal(cancelled.json.outcome, 'killed');
    // It ended while the cancel was being answered (the platform's own finishedAt, same clock, 1 s
    // slack for rounding), so the cancel ended it, not its deadline or anything later.
    const finished = Date.parse(cancelled.json.finishedAt);
    assert.ok(finished >= sent - 1000 && finished <= answered + 1000, `finishedAt ${cancelled.json.finishedAt} outside the cancel request [${new Date(sent).toISOString()}, ${new Date(answered).toISOString()}]`);
    assert.ok(Date.parse(cancelled.json.startedAt) <= finished);
    const again = await p.request('POST', `/v1/evaluations/${e.json.id}/cancel`);
    assert.equal(again.status, 200);
    assert.equal(again.json.finishedAt, cancelled.json.finishedAt, 'cancelling a terminal evaluation is a no-op');
  });

  it('cancels a queued evaluation: it ends cancelled and never runs', async () => {
    // Occupy the only slot so the evaluation to cancel is certainly still queued.
    const blocker = await p.request('POST', '/v1/evaluations', js('while (true) {}', { limits: { timeoutMs: 25_000 } }));
    await waitFor(async () => (await get(blocker.json.id)).status === 'running');
    const queued = await p.request('POST', '/v1/evaluations', js('console.log("ran anyway")', { priority: 'low' }));
    const sentinel = await p.request('POST', '/v1/evaluations', js('console.log("after")', { priority: 'low' }));
    const c = await p.request('POST', `/v1/evaluations/${queued.json.id}/cancel`);
    assert.equal(c.status, 200);
    assert.equal(c.json.status, 'cancelled', JSON.stringify(c.json));
    assert.equal(c.json.startedAt, null);
    // Storage refuses any later transition of a cancelled evaluation, so its record alone could
    // not show a run: the lane must no longer hold it (no agent can take it), and the mark that
    // makes an agent skip it (if it raced the removal) must be set.
    const keys = redisKeys(p.prefix);
    assert.equal(await redis.hexists(keys.lane('low', 'jobs'), queued.json.id), 0, 'removed from its lane');
    assert.ok(!(await redis.lrange(keys.lane('low', 'waiting'), 0, -1)).includes(queued.json.id), 'not waiting in its lane');
    assert.equal(await redis.exists(keys.cancelled(queued.json.id)), 1, 'marked cancelled for agents');
    await p.request('POST', `/v1/evaluations/${blocker.json.id}/cancel`);
    // The sentinel was queued behind it in the same lane: once it has run, the cancelled one had its turn.
    await waitFor(async () => (await get(sentinel.json.id)).status === 'completed', 60_000);
    const later = await get(queued.json.id);
    assert.equal(later.status, 'cancelled');
    assert.equal(later.startedAt, null, 'a cancelled queued evaluation never starts');
    assert.equal(later.stdout ?? '', '');
  });

  it('re-runs the task of an agent killed with SIGKILL mid-run, counting the attempt', async () => {
    const e = await p.request('POST', '/v1/evaluations', js('console.log("x"); const end = Date.now() + 3000; while (Date.now() < end) {}', { limits: { timeoutMs: 20_000 } }));
    await waitFor(async () => (await get(e.json.id)).status === 'running');
    await killAgent();
    await waitFor(async () => (await get(e.json.id)).status === 'completed', 60_000);
    const done = await get(e.json.id);
    assert.equal(done.outcome, 'success');
    assert.equal(done.attempts, 2);
    const events = await p.request('GET', `/v1/evaluations/${e.json.id}/events`);
    assert.match(events.text, /"status":"queued"/);
  });

  it('after the last attempt is lost it fails into the dead-letter queue; a retry runs it again', async () => {
    const e = await p.request('POST', '/v1/evaluations', js('const end = Date.now() + 4000; while (Date.now() < end) {} console.log("survived")', { limits: { timeoutMs: 20_000 } }));
    await waitFor(async () => (await get(e.json.id)).status === 'running');
    await killAgent();
    await waitFor(async () => {
      const now = await get(e.json.id);
      return now.status === 'running' && now.attempts === 2;
    }, 60_000);
    await killAgent();
    await waitFor(async () => (await get(e.json.id)).status === 'failed', 60_000);
    const failed = await get(e.json.id);
    assert.match(failed.error, /gave up after 2 attempt/);
    const dlq = await p.request('GET', '/v1/dlq');
    assert.equal(dlq.status, 200);
    const letter = dlq.json.items.find((l: { evaluationId: string }) => l.evaluationId === e.json.id);
    assert.ok(letter, JSON.stringify(dlq.json));
    assert.equal(letter.attempts, 2);
    const metrics = await p.request('GET', '/metrics');
    assert.match(metrics.text, /crucible_dead_letter_size [1-9]/);

    const retried = await p.request('POST', `/v1/dlq/${letter.id}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.json.status, 'queued');
    assert.equal(retried.json.attempts, 0);
    assert.equal((await p.request('POST', `/v1/dlq/${letter.id}/retry`)).status, 404, 'a letter is retried once');
    assert.equal((await p.request('POST', '/v1/dlq/not-a-uuid/retry')).json.error.code, 'not_found');
    await waitFor(async () => (await get(e.json.id)).status === 'completed', 60_000);
    const done = await get(e.json.id);
    assert.equal(done.stdout, 'survived\n');
    assert.equal(done.attempts, 1);
    assert.ok(!(await p.request('GET', '/v1/dlq')).json.items.some((l: { id: string }) => l.id === letter.id));
  });
});
