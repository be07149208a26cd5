import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  STATUSES,
  StorageInputError,
  canTransition,
  isTerminal,
  type CreateEvaluationInput,
  type Evaluation,
  type Status,
  type Storage,
} from '../src/index.js';
import { BACKENDS } from './backends.js';

function input(overrides: Partial<CreateEvaluationInput> = {}): CreateEvaluationInput {
  return {
    owner: 'alice',
    language: 'python',
    runtime: 'container',
    priority: 'normal',
    files: [{ name: 'main.py', content: 'print("hi")\n', encoding: 'utf8' }],
    stdin: 'input\n',
    args: ['--flag', 'value with spaces'],
    limits: { timeoutMs: 2000, memoryMb: 128, cpus: 1, pids: 32, outputBytes: 65536 },
    metadata: { suite: 'smoke', nested: { n: 1 } },
    ...overrides,
  };
}

const isInputError = (code: StorageInputError['code']) => (error: unknown) =>
  error instanceof StorageInputError && error.code === code;

/** A path through the state machine from queued to each status. */
const PATH_TO: Readonly<Record<Status, Status[]>> = {
  queued: [],
  provisioning: ['provisioning'],
  running: ['provisioning', 'running'],
  completed: ['running', 'completed'],
  failed: ['failed'],
  cancelled: ['cancelled'],
};

/** Newest first by (createdAt, id), the order `list` promises. */
function isNewestFirst(items: Evaluation[]): boolean {
  return items.every((item, i) => {
    const prev = items[i - 1];
    if (!prev) return true;
    return prev.createdAt > item.createdAt || (prev.createdAt === item.createdAt && prev.id > item.id);
  });
}

for (const makeBackend of BACKENDS) {
  const backend = makeBackend();

  describe(`EvaluationRepository (${backend.name})`, () => {
    let storage: Storage;
    const repo = () => storage.evaluations;
    // A fresh owner per test keeps lists independent of rows made by other tests in this schema.
    const owner = () => `owner-${randomUUID()}`;

    async function at(status: Status, overrides: Partial<CreateEvaluationInput> = {}): Promise<Evaluation> {
      let evaluation = await repo().create(input(overrides));
      for (const step of PATH_TO[status]) {
        const moved = await repo().transition(evaluation.id, step, step === 'completed' ? { outcome: 'success' } : {});
        assert.ok(moved, `setup: ${evaluation.status} → ${step}`);
        evaluation = moved.evaluation;
      }
      return evaluation;
    }

    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage?.close();
      await backend.cleanup();
    });

    describe('create and get', () => {
      it('creates a queued evaluation with a first status event', async () => {
        const given = input({ owner: owner(), requestId: 'req-42' });
        const created = await repo().create(given);
        assert.match(created.id, /^[0-9a-f-]{36}$/);
        assert.equal(created.status, 'queued');
        assert.equal(created.attempts, 0);
        assert.equal(created.outcome, null);
        assert.equal(created.requestId, 'req-42');
        assert.equal(created.startedAt, null);
        assert.equal(created.finishedAt, null);
        assert.equal(created.stdout, '');
        assert.equal(created.stdoutTruncated, false);
        assert.deepEqual(created.files, given.files);
        assert.deepEqual(created.args, given.args);
        assert.deepEqual(created.limits, given.limits);
        assert.deepEqual(created.metadata, given.metadata);
        assert.equal(created.stdin, given.stdin);
        assert.ok(Math.abs(Date.parse(created.createdAt) - Date.now()) < 60_000, 'createdAt is now-ish');
        assert.equal(created.updatedAt, created.createdAt);

        const events = await repo().events(created.id);
        assert.equal(events.length, 1);
        assert.deepEqual(
          { seq: events[0]!.seq, type: events[0]!.type, data: events[0]!.data },
          { seq: 1, type: 'status', data: { status: 'queued' } },
        );
      });

      it('uses a caller-chosen id and refuses one that is not a uuid', async () => {
        const id = randomUUID();
        assert.equal((await repo().create(input({ id }))).id, id);
        await assert.rejects(repo().create(input({ id: 'nope' })), isInputError('bad_id'));
      });

      it('gets what it created, filtered by owner when one is given', async () => {
        const alice = owner();
        const created = await repo().create(input({ owner: alice }));
        assert.deepEqual(await repo().get(created.id), created);
        assert.deepEqual(await repo().get(created.id, alice), created);
        assert.equal(await repo().get(created.id, owner()), undefined);
        assert.equal(await repo().get(randomUUID()), undefined);
      });

      it('treats a malformed id as not found rather than a database error', async () => {
        for (const id of ['', 'nope', '123', "' OR 1=1 --", `${randomUUID()}0`]) {
          assert.equal(await repo().get(id), undefined, id);
          assert.equal(await repo().transition(id, 'cancelled'), null, id);
          assert.deepEqual(await repo().events(id), [], id);
          await assert.rejects(repo().appendEvent(id, 'stdout', { chunk: 'x' }), isInputError('not_found'));
        }
        await assert.rejects(repo().appendEvent(randomUUID(), 'stdout', { chunk: 'x' }), isInputError('not_found'));
      });
    });

    describe('list', () => {
      it('pages newest first through every row exactly once', async () => {
        const alice = owner();
        // Some created concurrently, so several can share a millisecond and the id breaks the tie.
        const created = [
          ...(await Promise.all(Array.from({ length: 6 }, () => repo().create(input({ owner: alice }))))),
          await repo().create(input({ owner: alice })),
        ];
        for (let i = 0; i < 5; i++) await repo().create(input({ owner: alice }));
        const all: Evaluation[] = [];
        const sizes: number[] = [];
        let cursor: string | undefined;
        do {
          const page = await repo().list({ owner: alice, limit: 5, ...(cursor ? { cursor } : {}) });
          sizes.push(page.items.length);
          all.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        assert.deepEqual(sizes, [5, 5, 2]);
        assert.equal(new Set(all.map((e) => e.id)).size, 12);
        for (const e of created) assert.ok(all.some((x) => x.id === e.id));
        assert.ok(isNewestFirst(all), 'newest first, ties by id');
      });

      it('returns no cursor when the last page is exactly full', async () => {
        const alice = owner();
        for (let i = 0; i < 3; i++) await repo().create(input({ owner: alice }));
        const page = await repo().list({ owner: alice, limit: 3 });
        assert.equal(page.items.length, 3);
        assert.equal(page.nextCursor, null);
      });

      it('keeps pages stable while new rows arrive', async () => {
        const alice = owner();
        for (let i = 0; i < 4; i++) await repo().create(input({ owner: alice }));
        const first = await repo().list({ owner: alice, limit: 2 });
        await repo().create(input({ owner: alice })); // newer than everything: must not shift page 2
        const second = await repo().list({ owner: alice, limit: 2, cursor: first.nextCursor! });
        const ids = [...first.items, ...second.items].map((e) => e.id);
        assert.equal(new Set(ids).size, 4);
        assert.equal(second.nextCursor, null);
      });

      it('filters by status and language, and isolates owners', async () => {
        const alice = owner();
        const bob = owner();
        const py = await repo().create(input({ owner: alice, language: 'python' }));
        const js = await repo().create(input({ owner: alice, language: 'javascript' }));
        const done = await at('completed', { owner: alice, language: 'python' });
        const bobs = await repo().create(input({ owner: bob }));

        const ids = async (q: Parameters<ReturnType<typeof repo>['list']>[0]) =>
          (await repo().list(q)).items.map((e) => e.id).sort();
        assert.deepEqual(await ids({ owner: alice }), [py.id, js.id, done.id].sort());
        assert.deepEqual(await ids({ owner: alice, language: 'python' }), [py.id, done.id].sort());
        assert.deepEqual(await ids({ owner: alice, status: 'completed' }), [done.id]);
        assert.deepEqual(await ids({ owner: alice, status: 'queued', language: 'javascript' }), [js.id]);
        assert.deepEqual(await ids({ owner: bob }), [bobs.id]);
        // Without an owner (an admin view) everyone's rows are listed.
        const everyone = (await repo().list({ limit: 200 })).items.map((e) => e.id);
        for (const id of [py.id, bobs.id]) assert.ok(everyone.includes(id));
      });

      it('defaults to 50 per page and lowers a limit above 200', async () => {
        const alice = owner();
        await Promise.all(Array.from({ length: 201 }, () => repo().create(input({ owner: alice }))));
        const page = await repo().list({ owner: alice });
        assert.equal(page.items.length, 50);
        assert.notEqual(page.nextCursor, null);
        const big = await repo().list({ owner: alice, limit: 10_000 });
        assert.equal(big.items.length, 200);
        assert.equal((await repo().list({ owner: alice, limit: 10_000, cursor: big.nextCursor! })).items.length, 1);
      });

      it('refuses a cursor it did not issue, and a nonsensical limit', async () => {
        const bad = ['garbage', Buffer.from('["x","y"]').toString('base64url'), Buffer.from('{}').toString('base64url')];
        for (const cursor of bad) await assert.rejects(repo().list({ cursor }), isInputError('bad_cursor'));
        for (const limit of [0, -1, 1.5, Number.NaN]) await assert.rejects(repo().list({ limit }), isInputError('bad_limit'));
      });
    });

    describe('transition', () => {
      for (const from of STATUSES) {
        for (const to of STATUSES) {
          const allowed = canTransition(from, to);
          it(`${from} → ${to} is ${allowed ? 'applied' : 'refused'}`, async () => {
            const before = await at(from);
            const eventsBefore = await repo().events(before.id);
            const result = await repo().transition(before.id, to);
            const now = await repo().get(before.id);
            const eventsAfter = await repo().events(before.id);
            if (!allowed) {
              assert.equal(result, null);
              assert.deepEqual(now, before, 'row untouched');
              assert.deepEqual(eventsAfter, eventsBefore, 'no event');
              return;
            }
            assert.ok(result);
            assert.equal(result.evaluation.status, to);
            assert.deepEqual(now, result.evaluation);
            assert.equal(result.event.type, 'status');
            assert.equal(result.event.seq, eventsBefore.length + 1);
            assert.deepEqual(result.event.data.status, to);
            assert.deepEqual(eventsAfter.at(-1), result.event);
            assert.equal(result.evaluation.finishedAt !== null, isTerminal(to), 'finishedAt iff terminal');
          });
        }
      }

      it('is an idempotent no-op once terminal', async () => {
        const done = await at('completed');
        for (const to of STATUSES) assert.equal(await repo().transition(done.id, to), null, to);
        assert.deepEqual(await repo().get(done.id), done);
      });

      it('returns null for an unknown evaluation', async () => {
        assert.equal(await repo().transition(randomUUID(), 'running'), null);
      });

      it('lets exactly one of several racing transitions win', async () => {
        const queued = await repo().create(input());
        const targets: Status[] = ['completed', 'cancelled', 'failed', 'completed', 'cancelled', 'failed'];
        const results = await Promise.all(targets.map((to) => repo().transition(queued.id, to)));
        const winners = results.filter((r) => r !== null);
        assert.equal(winners.length, 1);
        const events = await repo().events(queued.id);
        assert.deepEqual(
          events.map((e) => e.data.status),
          ['queued', winners[0]!.evaluation.status],
        );
      });

      it('writes the result fields and puts the outcome in the status event', async () => {
        const running = await at('running');
        const result = await repo().transition(running.id, 'completed', {
          outcome: 'error',
          exitCode: 3,
          signal: null,
          stdout: 'partial out',
          stderr: 'Traceback…',
          stdoutTruncated: true,
          stderrTruncated: false,
          durationMs: 1234,
          error: null,
        });
        assert.ok(result);
        const e = result.evaluation;
        assert.deepEqual(
          [e.outcome, e.exitCode, e.signal, e.stdout, e.stderr, e.stdoutTruncated, e.stderrTruncated, e.durationMs],
          ['error', 3, null, 'partial out', 'Traceback…', true, false, 1234],
        );
        assert.deepEqual(result.event.data, { status: 'completed', outcome: 'error' });
      });

      it('never lets a patch change the owner or smuggle in a status', async () => {
        const running = await at('running');
        const sneaky = { outcome: 'success', status: 'queued', owner: 'mallory' } as unknown as Parameters<
          ReturnType<typeof repo>['transition']
        >[2];
        const result = await repo().transition(running.id, 'completed', sneaky);
        assert.equal(result?.evaluation.status, 'completed');
        assert.equal(result?.evaluation.owner, running.owner);
      });

      it('takes startedAt and finishedAt from the patch when given', async () => {
        const queued = await repo().create(input());
        const startedAt = '2030-01-01T00:00:00.000Z';
        const finishedAt = '2030-01-01T00:00:05.250Z';
        const running = await repo().transition(queued.id, 'running', { startedAt });
        assert.equal(running?.evaluation.startedAt, startedAt);
        const done = await repo().transition(queued.id, 'completed', { outcome: 'success', finishedAt });
        assert.equal(done?.evaluation.finishedAt, finishedAt);
        assert.equal(done?.evaluation.startedAt, startedAt);
      });
    });

    describe('attempts', () => {
      it('counts each departure from the queue, and stamps startedAt once', async () => {
        const { id } = await repo().create(input());
        const step = async (to: Status) => {
          const result = await repo().transition(id, to);
          assert.ok(result, to);
          return result.evaluation;
        };
        const provisioning = await step('provisioning');
        assert.equal(provisioning.attempts, 1);
        assert.notEqual(provisioning.startedAt, null);
        assert.equal((await step('running')).attempts, 1, 'provisioning → running is the same attempt');
        assert.equal((await step('queued')).attempts, 1, 'handing back does not count');
        const retried = await step('running');
        assert.equal(retried.attempts, 2, 'queued → running directly counts too');
        assert.equal(retried.startedAt, provisioning.startedAt, 'first start is kept');
        assert.equal((await step('queued')).attempts, 2);
        assert.equal((await step('provisioning')).attempts, 3);
        const failed = await step('failed');
        assert.equal(failed.attempts, 3);
        assert.notEqual(failed.finishedAt, null);
      });

      it('does not count a cancellation straight from the queue', async () => {
        const { id } = await repo().create(input());
        const cancelled = await repo().transition(id, 'cancelled');
        assert.equal(cancelled?.evaluation.attempts, 0);
        assert.equal(cancelled?.evaluation.startedAt, null);
        assert.notEqual(cancelled?.evaluation.finishedAt, null);
      });
    });

    describe('events', () => {
      it('numbers 50 concurrent appends 2..51 with no gap or duplicate', async () => {
        const { id } = await repo().create(input());
        const appended = await Promise.all(
          Array.from({ length: 50 }, (_, i) => repo().appendEvent(id, i % 2 ? 'stderr' : 'stdout', { chunk: `#${i}` })),
        );
        assert.deepEqual(
          appended.map((e) => e.seq).sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i + 2),
        );
        const events = await repo().events(id);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: 51 }, (_, i) => i + 1),
        );
        // Each append stored what was sent, under the seq it was told.
        for (const e of appended) assert.deepEqual(events[e.seq - 1], e);
      });

      it('keeps seq gapless when appends and transitions interleave', async () => {
        const { id } = await repo().create(input());
        const work: Promise<unknown>[] = [];
        for (let i = 0; i < 20; i++) {
          work.push(repo().appendEvent(id, 'stdout', { chunk: String(i) }));
          if (i === 5) work.push(repo().transition(id, 'running'));
          if (i === 15) work.push(repo().transition(id, 'completed', { outcome: 'success' }));
        }
        await Promise.all(work);
        const events = await repo().events(id);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: 23 }, (_, i) => i + 1),
        );
        assert.deepEqual(
          events.filter((e) => e.type === 'status').map((e) => e.data.status),
          ['queued', 'running', 'completed'],
        );
      });

      it('replays only what came after a given seq, in order', async () => {
        const { id } = await repo().create(input());
        for (const chunk of ['a', 'b', 'c']) await repo().appendEvent(id, 'stdout', { data: chunk });
        const tail = await repo().events(id, 2);
        assert.deepEqual(
          tail.map((e) => [e.seq, e.data.data]),
          [
            [3, 'b'],
            [4, 'c'],
          ],
        );
        assert.deepEqual(await repo().events(id, 4), []);
        assert.equal((await repo().events(id)).length, 4);
      });
    });

    describe('unfinished', () => {
      it('lists queued, provisioning and running evaluations, oldest first', async () => {
        // Other tests left unfinished rows too; only relative order and membership are checked.
        const made = {
          queued: await at('queued'),
          provisioning: await at('provisioning'),
          running: await at('running'),
          completed: await at('completed'),
          failed: await at('failed'),
          cancelled: await at('cancelled'),
        };
        const list = await repo().unfinished(100_000);
        const ids = list.map((e) => e.id);
        for (const status of ['queued', 'provisioning', 'running'] as const) assert.ok(ids.includes(made[status].id), status);
        for (const status of ['completed', 'failed', 'cancelled'] as const) assert.ok(!ids.includes(made[status].id), status);
        assert.ok(list.every((e) => !isTerminal(e.status)));
        assert.ok(
          list.every((e, i) => i === 0 || list[i - 1]!.createdAt <= e.createdAt),
          'oldest first',
        );
        assert.equal((await repo().unfinished(2)).length, 2);
        await assert.rejects(repo().unfinished(0), isInputError('bad_limit'));
      });
    });

    describe('countByStatus', () => {
      it('counts evaluations in one status', async () => {
        const before = await repo().countByStatus('failed');
        await at('failed');
        await at('failed');
        await at('completed');
        assert.equal(await repo().countByStatus('failed'), before + 2);
      });
    });
  });
}
