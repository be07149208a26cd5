/**
 * Output is data, whatever its bytes (issue 12), at the storage layer, on PostgreSQL and PGlite:
 * the exact bytes a program wrote are stored and read back, whatever they are (PostgreSQL text
 * and jsonb cannot hold U+0000; invalid UTF-8 must not be lost), and text is derived from them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrationSource, type CreateEvaluationInput, type Storage } from '../src/index.js';
import { BACKENDS } from './backends.js';

const input: CreateEvaluationInput = {
  owner: 'alice',
  language: 'python',
  runtime: 'container',
  priority: 'normal',
  files: [{ name: 'main.py', content: 'print(1)\n', encoding: 'utf8' }],
  stdin: '',
  args: [],
  limits: { timeoutMs: 2000, memoryMb: 128, cpus: 1, pids: 32, outputBytes: 65536 },
  metadata: {},
};

// Every byte value, then the classes that broke things: NUL, invalid and truncated UTF-8, CESU-8.
const ALL_BYTES = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0, 0, 0xff, 0xed, 0xa0, 0x80, 0xe2, 0x82])]);

for (const makeBackend of BACKENDS) {
  const backend = makeBackend();
  describe(`output bytes in storage (${backend.name})`, () => {
    let storage: Storage;
    before(async () => {
      storage = await backend.open();
    });
    after(async () => {
      await storage?.close();
      await backend.cleanup();
    });

    // First, while no row holds bytes text cannot: down needs that.
    it('0006 turns existing text output into its UTF-8 bytes, and rows written before it still read', async () => {
      await storage.knex.migrate.down({ migrationSource, name: '0006-output-bytes' });
      try {
        const { id } = await storage.evaluations.create(input);
        await storage.knex('evaluations').where({ id }).update({ stdout: 'héllo\n', stderr: 'w', compile: JSON.stringify({ stdout: 'c', stderr: 'é', exitCode: 0, durationMs: 1 }) });
        await storage.knex.migrate.latest({ migrationSource });
        const e = (await storage.evaluations.get(id))!;
        assert.equal(e.stdout, 'héllo\n');
        assert.equal(e.stdoutBase64, Buffer.from('héllo\n').toString('base64'));
        assert.equal(e.stderr, 'w');
        assert.deepEqual(e.compile, { stdout: 'c', stderr: 'é', stdoutBase64: 'Yw==', stderrBase64: Buffer.from('é').toString('base64'), exitCode: 0, durationMs: 1 });
      } finally {
        await storage.knex.migrate.latest({ migrationSource });
      }
    });
    it('keeps stdout and stderr exactly (every byte value), and derives their text', async () => {
      const { id } = await storage.evaluations.create(input);
      await storage.evaluations.transition(id, 'running');
      const t = await storage.evaluations.transition(id, 'completed', { outcome: 'success', stdout: ALL_BYTES, stderr: Buffer.from('a\0b') });
      assert.ok(t);
      const e = (await storage.evaluations.get(id))!;
      assert.equal(e.stdoutBase64, ALL_BYTES.toString('base64'));
      assert.equal(e.stdout, ALL_BYTES.toString('utf8'));
      assert.equal(e.stderr, 'a\0b');
      assert.deepEqual(t.evaluation.stdoutBase64, e.stdoutBase64, 'the transition returns the same');
      const listed = (await storage.evaluations.list({ owner: 'alice' })).items.find((x) => x.id === id)!;
      assert.equal(listed.stdoutBase64, ALL_BYTES.toString('base64'));
    });

    it('keeps output events exactly, even though jsonb cannot hold NUL', async () => {
      const { id } = await storage.evaluations.create(input);
      await storage.evaluations.appendOutput(id, 'stdout', ALL_BYTES);
      await storage.evaluations.appendEvent(id, 'stderr', { data: 'as text: \0 kept' });
      const [out, err] = (await storage.evaluations.events(id, 1));
      assert.deepEqual(out!.data, { data: ALL_BYTES.toString('utf8'), dataBase64: ALL_BYTES.toString('base64') });
      assert.deepEqual(err!.data, { data: 'as text: \0 kept', dataBase64: Buffer.from('as text: \0 kept').toString('base64') });
    });

    it('keeps the compile step exactly; a NUL in an error text or a dead letter becomes U+FFFD', async () => {
      const { id } = await storage.evaluations.create(input);
      await storage.evaluations.transition(id, 'running');
      const compile = { stdout: 'a\0', stderr: '', stdoutBase64: Buffer.from('a\0\xff', 'latin1').toString('base64'), stderrBase64: '', exitCode: 1, durationMs: 5 };
      await storage.evaluations.transition(id, 'completed', { outcome: 'error', compile, error: 'the program said \0 here' });
      const e = (await storage.evaluations.get(id))!;
      assert.deepEqual(e.compile, { ...compile, stdout: 'a\0\ufffd' });
      assert.equal(e.error, 'the program said \ufffd here');

      const other = await storage.evaluations.create(input);
      const failed = await storage.deadLetters.fail(other.id, 'agent lost while printing \0');
      assert.equal(failed?.evaluation.error, 'agent lost while printing \ufffd');
      const letters = await storage.deadLetters.list();
      assert.equal(letters.items.find((l) => l.evaluationId === other.id)?.reason, 'agent lost while printing \ufffd');
    });


    it('0006 down refuses, rather than lose bytes, while a row holds what text cannot', async () => {
      await assert.rejects(storage.knex.migrate.down({ migrationSource, name: '0006-output-bytes' }), /invalid byte sequence/);
      const [{ n }] = (await storage.knex('evaluations').count({ n: '*' })) as [{ n: string | number }];
      assert.ok(Number(n) > 0);
      assert.equal((await storage.evaluations.list({ owner: 'alice' })).items.length, Number(n), 'everything still reads');
    });
  });
}
