import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { StorageInputError, type CreateEvaluationInput, type Storage } from '../src/index.js';
import { BACKENDS } from './backends.js';

function input(owner: string): CreateEvaluationInput {
  return {
    owner,
    language: 'javascript',
    runtime: 'wasm',
    priority: 'normal',
    files: [{ name: 'main.js', content: 'console.log(1)', encoding: 'utf8' }],
    stdin: '',
    args: [],
    limits: { timeoutMs: 2000, memoryMb: 64, cpus: 1, pids: 32, outputBytes: 65536 },
    metadata: {},
  };
}

for (const makeBackend of BACKENDS) {
  const backend = makeBackend();

  describe(`queue state: idempotency keys and dead letters (${backend.name})`, () => {
    let storage: Storage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage?.close();
      await backend.cleanup();
    });

    it('the same key from the same owner creates one evaluation, even when 20 requests race', async () => {
      const owner = `o-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 20 }, () => storage.evaluations.createOnce(input(owner), 'key-1')));
      const ids = new Set(results.map((r) => r.evaluation.id));
      assert.equal(ids.size, 1);
      assert.equal(results.filter((r) => r.created).length, 1);
      const page = await storage.evaluations.list({ owner });
      assert.equal(page.items.length, 1, 'the losers rolled their evaluations back');
    });

    it('keys are per owner, and an expired key starts a new evaluation', async () => {
      const a = `o-${randomUUID()}`;
      const b = `o-${randomUUID()}`;
      const first = await storage.evaluations.createOnce(input(a), 'k');
      const other = await storage.evaluations.createOnce(input(b), 'k');
      assert.notEqual(first.evaluation.id, other.evaluation.id);
      assert.equal(other.created, true);
      const again = await storage.evaluations.createOnce(input(a), 'k');
      assert.equal(again.evaluation.id, first.evaluation.id);
      assert.equal(again.created, false);
      // A TTL of 0 makes the stored key expired: it is taken over by a new evaluation.
      await new Promise((r) => setTimeout(r, 5));
      const expired = await storage.evaluations.createOnce(input(a), 'k', 0);
      assert.equal(expired.created, true);
      assert.notEqual(expired.evaluation.id, first.evaluation.id);
      assert.equal((await storage.evaluations.byIdempotencyKey(a, 'k'))?.id, expired.evaluation.id);
      await new Promise((r) => setTimeout(r, 5));
      assert.ok((await storage.evaluations.purgeIdempotencyKeys(1)) >= 1);
      assert.equal(await storage.evaluations.byIdempotencyKey(a, 'k'), undefined);
    });

    it('failing files one dead letter atomically; a terminal evaluation cannot be failed', async () => {
      const e = await storage.evaluations.create(input(`o-${randomUUID()}`));
      await storage.evaluations.transition(e.id, 'running');
      const before = await storage.deadLetters.count();
      const t = await storage.deadLetters.fail(e.id, 'gave up after 3 attempts: engine gone');
      assert.equal(t?.evaluation.status, 'failed');
      assert.equal(t?.evaluation.error, 'gave up after 3 attempts: engine gone');
      assert.equal(await storage.deadLetters.fail(e.id, 'again'), null, 'already failed');
      assert.equal(await storage.deadLetters.count(), before + 1);
      const done = await storage.evaluations.create(input(`o-${randomUUID()}`));
      await storage.evaluations.transition(done.id, 'cancelled');
      assert.equal(await storage.deadLetters.fail(done.id, 'x'), null);
      const page = await storage.deadLetters.list({ limit: 200 });
      const letter = page.items.find((l) => l.evaluationId === e.id);
      assert.ok(letter);
      assert.equal(letter.attempts, 1);
      assert.equal(letter.reason, 'gave up after 3 attempts: engine gone');
      assert.ok(!page.items.some((l) => l.evaluationId === done.id));
    });

    it('retrying a letter re-queues its evaluation once, with a fresh attempt budget', async () => {
      const e = await storage.evaluations.create(input(`o-${randomUUID()}`));
      await storage.evaluations.transition(e.id, 'running');
      await storage.deadLetters.fail(e.id, 'lost');
      const letter = (await storage.deadLetters.list({ limit: 200 })).items.find((l) => l.evaluationId === e.id)!;
      const t = await storage.deadLetters.retry(letter.id);
      assert.equal(t.evaluation.status, 'queued');
      assert.equal(t.evaluation.attempts, 0);
      assert.equal(t.evaluation.error, null);
      assert.equal(t.evaluation.finishedAt, null);
      assert.deepEqual(t.event.data, { status: 'queued', retry: 'dead_letter' });
      await assert.rejects(storage.deadLetters.retry(letter.id), (err) => err instanceof StorageInputError && err.code === 'not_found');
      await assert.rejects(storage.deadLetters.retry('nope'), (err) => err instanceof StorageInputError && err.code === 'not_found');
      assert.ok(!(await storage.deadLetters.list({ limit: 200 })).items.some((l) => l.id === letter.id));
      // The evaluation can run and fail again, filing a new letter.
      await storage.evaluations.transition(e.id, 'running');
      assert.ok(await storage.deadLetters.fail(e.id, 'lost again'));
    });

    it('pages the letters newest first', async () => {
      const created: string[] = [];
      for (let i = 0; i < 3; i++) {
        const e = await storage.evaluations.create(input(`o-${randomUUID()}`));
        await storage.deadLetters.fail(e.id, `r${i}`);
        created.push(e.id);
      }
      const first = await storage.deadLetters.list({ limit: 2 });
      assert.equal(first.items.length, 2);
      assert.ok(first.nextCursor);
      // Walk every page: each letter once, in order of creation reversed.
      const all = [...first.items];
      for (let cursor: string | null = first.nextCursor; cursor; ) {
        const page = await storage.deadLetters.list({ limit: 2, cursor });
        assert.ok(page.items.length >= 1);
        all.push(...page.items);
        cursor = page.nextCursor;
      }
      assert.equal(new Set(all.map((l) => l.id)).size, all.length, 'no letter on two pages');
      assert.deepEqual(all.slice(0, 3).map((l) => l.evaluationId), [...created].reverse(), 'the three just failed come first, newest first');
      for (let i = 1; i < all.length; i++) {
        assert.ok(Date.parse(all[i - 1]!.createdAt) >= Date.parse(all[i]!.createdAt), `letter ${i} is newer than the one before it`);
      }
    });
  });
}
