import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { taskOf, Reconciler } from '../src/reconciler.js';
import { TaskQueue } from '../src/task-queue.js';
import { BACKENDS, fixture, newEvaluation, REDIS_URL, silent } from './fixtures.js';

for (const backend of BACKENDS) describe(`TaskQueue and Reconciler (real Redis + ${backend})`, () => {
  it('enqueues an evaluation once, whatever the number of attempts', async () => {
    await using f = await fixture(backend);
    const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
    await queue.ready();
    const e = await newEvaluation(f.storage, { priority: 'high' });
    await Promise.all([1, 2, 3].map(() => queue.enqueue(taskOf(e), 'high')));
    const depths = await queue.depths();
    assert.deepEqual(depths.find((d) => d.name === 'high'), { name: 'high', depth: 1, running: 0 });
    assert.equal(await queue.has(e.id, 'high'), true);
    assert.equal(await queue.has(e.id, 'low'), false);
    await queue.close();
  });

  it('cancelling removes the waiting job and marks the id for agents', async () => {
    await using f = await fixture(backend);
    const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
    await queue.ready();
    const e = await newEvaluation(f.storage);
    await queue.enqueue(taskOf(e), 'normal');
    await queue.cancel(e.id, 'normal');
    assert.equal(await queue.has(e.id, 'normal'), false);
    assert.equal(await f.redis.exists(f.keys.cancelled(e.id)), 1);
    assert.ok((await f.redis.ttl(f.keys.cancelled(e.id))) > 3600);
    await queue.close();
  });

  it('re-enqueues unfinished evaluations Redis lost, and leaves young or present ones alone', async () => {
    await using f = await fixture(backend);
    const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
    await queue.ready();
    const lostQueued = await newEvaluation(f.storage);
    const lostRunning = await newEvaluation(f.storage);
    await f.storage.evaluations.transition(lostRunning.id, 'running');
    const present = await newEvaluation(f.storage);
    await queue.enqueue(taskOf(present), 'normal');
    const done = await newEvaluation(f.storage);
    await f.storage.evaluations.transition(done.id, 'cancelled');

    const young = new Reconciler(f.storage.evaluations, queue, silent, 60_000, f.storage.deadLetters, 3);
    assert.equal(await young.reconcile(), 0, 'nothing older than the grace period');

    const reconciler = new Reconciler(f.storage.evaluations, queue, silent, 0, f.storage.deadLetters, 3);
    assert.equal(await reconciler.reconcile(Date.now() + 1000), 2);
    assert.equal(await queue.has(lostQueued.id, 'normal'), true);
    assert.equal(await queue.has(lostRunning.id, 'normal'), true);
    assert.equal((await f.storage.evaluations.get(lostRunning.id))?.status, 'queued');
    assert.equal(await queue.has(done.id, 'normal'), false);
    assert.equal(await reconciler.reconcile(Date.now() + 1000), 0, 'idempotent');
    await queue.close();
  });

  it('after Redis lost a job, the producer no longer reports it (no stale cache) and the reconciler re-enqueues it', async () => {
    await using f = await fixture(backend);
    const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
    await queue.ready();
    const e = await newEvaluation(f.storage);
    await queue.enqueue(taskOf(e), 'normal');
    assert.equal(await queue.has(e.id, 'normal'), true);
    // What a Redis restarted empty looks like to this queue.
    const keys = await f.redis.keys(`${f.prefix}:*`);
    await f.redis.del(...keys);
    assert.equal(await queue.has(e.id, 'normal'), false);
    const reconciler = new Reconciler(f.storage.evaluations, queue, silent, 0, f.storage.deadLetters, 3);
    assert.equal(await reconciler.reconcile(Date.now() + 1000), 1);
    assert.equal(await queue.has(e.id, 'normal'), true);
    assert.equal(await queue.waiting(), 1);
    await queue.close();
  });

  it('dead-letters a lost evaluation that already used every attempt instead of re-queueing it', async () => {
    await using f = await fixture(backend);
    const queue = new TaskQueue({ redisUrl: REDIS_URL, keys: f.keys, retries: 1, retryBackoffMs: 10 }, f.redis);
    await queue.ready();
    const e = await newEvaluation(f.storage);
    await f.storage.evaluations.transition(e.id, 'running');
    await f.storage.evaluations.transition(e.id, 'queued');
    await f.storage.evaluations.transition(e.id, 'running');
    const reconciler = new Reconciler(f.storage.evaluations, queue, silent, 0, f.storage.deadLetters, 2);
    assert.equal(await reconciler.reconcile(Date.now() + 1000), 0);
    const failed = await f.storage.evaluations.get(e.id);
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.error ?? '', /gave up after 2 attempt/);
    assert.equal(await f.storage.deadLetters.count(), 1);
    assert.equal(await queue.has(e.id, 'normal'), false);
    await queue.close();
  });
});
