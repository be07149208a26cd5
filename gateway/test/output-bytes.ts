/**
 * Shared by the output-bytes tests (issue 12: output is data, whatever its bytes): programs that
 * write given bytes in each sandbox, and the checks every read of an evaluation must pass.
 * Not a test file itself.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Platform } from './platform.js';

/** Byte sequences that have broken, or could break, something on the way: each class of issue 12. */
export const HOSTILE_FRAGMENTS: readonly Buffer[] = [
  Buffer.from([0]), // NUL: PostgreSQL text and jsonb cannot hold it
  Buffer.from([0, 0, 0]),
  Buffer.from([0xff, 0xfe]), // never valid UTF-8
  Buffer.from([0xc3]), // a truncated two-byte character
  Buffer.from([0xe2, 0x82]), // a truncated three-byte character
  Buffer.from([0xf0, 0x9f, 0x98]), // a truncated four-byte character
  Buffer.from([0xed, 0xa0, 0x80]), // a lone surrogate, CESU-8 style
  Buffer.from([0xc0, 0xaf]), // an overlong '/'
  Buffer.from('\r'),
  Buffer.from('\r\n'),
  Buffer.from('\x1b[31mred\x1b[0m\x1b]0;title\x07'), // ANSI colour and a terminal title
  Buffer.from('\n\ndata: {"forged":true}\n\n'), // SSE framing
  Buffer.from('event: done\ndata: {}\n\n'),
  Buffer.from('id: 999\n\n'),
  Buffer.from('\u202e\u2066'), // bidi overrides
  Buffer.from('é😀'),
];

/** Arbitrary bytes, biased towards the hostile fragments so every run meets some. */
export function hostileBytes(maxParts = 12): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE_FRAGMENTS), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))), { maxLength: maxParts })
    .map((parts) => Buffer.concat(parts));
}

/** Arbitrary JavaScript strings: lone surrogates, NUL and controls included. */
export function hostileStrings(maxParts = 12): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('\0', '\ud800', '\udfff', '\r', '\x1b[2J', '\n\ndata: x\n\n', 'event: done', '%s%%'),
      ),
      { maxLength: maxParts },
    )
    .map((parts) => parts.join(''));
}

/** A python program writing the bytes it is given on stdin (base64 lines) to stdout and stderr. */
export function pythonWriting(stdout: Buffer, stderr: Buffer) {
  return {
    language: 'python',
    runtime: 'container',
    code: [
      'import sys, base64',
      'out, err = sys.stdin.read().split("\\n")[:2]',
      'sys.stdout.buffer.write(base64.b64decode(out)); sys.stdout.buffer.flush()',
      'sys.stderr.buffer.write(base64.b64decode(err)); sys.stderr.buffer.flush()',
    ].join('\n'),
    stdin: `${stdout.toString('base64')}\n${stderr.toString('base64')}\n`,
  };
}

/** A WASI module (as .wat text) writing the bytes, held in its data segments, to fd 1 and fd 2. */
export function wasiWriting(stdout: Buffer, stderr: Buffer) {
  const hex = (b: Buffer) => Array.from(b, (x) => `\\${x.toString(16).padStart(2, '0')}`).join('');
  const base = 1024;
  const write = (fd: number, at: number, length: number) =>
    `(i32.store (i32.const 0) (i32.const ${at})) (i32.store (i32.const 4) (i32.const ${length}))
     (drop (call $fd_write (i32.const ${fd}) (i32.const 0) (i32.const 1) (i32.const 16)))`;
  const code = `(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1 1)
    (data (i32.const ${base}) "${hex(stdout)}")
    (data (i32.const ${base + stdout.length}) "${hex(stderr)}")
    (func (export "_start")
      ${write(1, base, stdout.length)}
      ${write(2, base + stdout.length, stderr.length)}))`;
  return { language: 'wasm', code };
}

/** A QuickJS program printing the strings it is given (as JSON on stdin) with console.log/error. */
export function quickJsPrinting(stdout: string, stderr: string) {
  return {
    language: 'javascript',
    runtime: 'wasm',
    // '%s' so that the text is printed as is (a leading string is a format).
    code: 'const [o, e] = JSON.parse(stdin); console.log("%s", o); console.error("%s", e);',
    // JSON escapes NUL and lone surrogates: stdin itself stays plain text.
    stdin: JSON.stringify([stdout, stderr]),
  };
}

/** What Node writes for a string (a lone surrogate as U+FFFD), which QuickJS output must match. */
export const utf8Of = (text: string) => Buffer.from(text, 'utf8');

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

/**
 * Parses an SSE body strictly: every event is `id`/`event`/`data` lines, exactly one `data` line
 * holding one JSON value, and nothing a program wrote can have added a line, a field or an event.
 */
export function parseSseStrict(text: string): SseEvent[] {
  assert.ok(!text.includes('\r'), 'a raw CR in the event stream');
  assert.ok(!text.includes('\0'), 'a raw NUL in the event stream');
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a whole event');
  const events: SseEvent[] = [];
  for (const block of text.slice(0, -2).split('\n\n')) {
    if (block.startsWith(':')) continue;
    const fields = block.split('\n').map((line) => {
      const m = /^(id|event|data): (.*)$/.exec(line);
      assert.ok(m, `a line that is not id/event/data: ${JSON.stringify(line.slice(0, 80))}`);
      return [m[1]!, m[2]!] as const;
    });
    const names = fields.map(([name]) => name);
    assert.equal(names.filter((n) => n === 'data').length, 1, `one data line per event: ${names.join(',')}`);
    assert.equal(new Set(names).size, names.length, 'no repeated field');
    const f = Object.fromEntries(fields);
    events.push({ id: f.id, event: f.event ?? 'message', data: JSON.parse(f.data!) });
  }
  return events;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Submits `request` and checks every way of reading it back: the exact bytes through
 * `?output=base64` (submit with wait, GET, list, SSE), and the documented text (UTF-8 decoding,
 * invalid sequences as U+FFFD, NUL kept) in the plain JSON and SSE, in order and whole.
 */
export async function assertOutputRoundTrip(p: Platform, request: Record<string, unknown>, stdout: Buffer, stderr: Buffer): Promise<void> {
  const submitted = await p.request('POST', '/v1/evaluations?wait=60&output=base64', request);
  assert.equal(submitted.status, 201, submitted.text.slice(0, 500));
  const e = submitted.json;
  assert.equal(e.outcome, 'success', `${e.outcome} ${e.error} ${e.stderr}`);
  const expected = {
    stdout: stdout.toString('utf8'),
    stderr: stderr.toString('utf8'),
    stdoutBase64: stdout.toString('base64'),
    stderrBase64: stderr.toString('base64'),
  };
  const exact = (x: Record<string, unknown>) => ({ stdout: x.stdout, stderr: x.stderr, stdoutBase64: x.stdoutBase64, stderrBase64: x.stderrBase64 });
  assert.deepEqual(exact(e), expected, 'submit ?wait&output=base64');
  assert.equal(e.stdoutTruncated, false);

  const plain = await p.request('GET', `/v1/evaluations/${e.id}`);
  assert.equal(plain.status, 200);
  assert.deepEqual(exact(plain.json), { ...expected, stdoutBase64: undefined, stderrBase64: undefined }, 'GET (text)');
  const read = await p.request('GET', `/v1/evaluations/${e.id}?output=base64`);
  assert.deepEqual(exact(read.json), expected, 'GET ?output=base64');
  const listed = await p.request('GET', `/v1/evaluations?limit=20&output=base64`);
  const item = (listed.json.items as Record<string, unknown>[]).find((x) => x.id === e.id);
  assert.ok(item, 'the evaluation is listed');
  assert.deepEqual(exact(item), expected, 'list ?output=base64');

  for (const encoding of ['base64', 'text'] as const) {
    const res = await fetch(`${p.url}/v1/evaluations/${e.id}/events${encoding === 'base64' ? '?output=base64' : ''}`, { headers: p.auth() });
    const events = parseSseStrict(await res.text());
    const done = events.at(-1)!;
    assert.equal(done.event, 'done', 'the stream ends with done');
    assert.ok(TERMINAL.has(done.data.status));
    assert.equal(events.filter((x) => x.event === 'done').length, 1, 'one done');
    for (const stream of ['stdout', 'stderr'] as const) {
      const chunks = events.filter((x) => x.event === stream).map((x) => x.data);
      // Chunks never split a character: their texts join to the text of the whole.
      assert.equal(chunks.map((c) => c.data).join(''), expected[stream], `SSE ${stream} text (${encoding})`);
      if (encoding === 'base64') {
        assert.equal(Buffer.concat(chunks.map((c) => Buffer.from(c.dataBase64, 'base64'))).toString('base64'), expected[`${stream}Base64`], `SSE ${stream} bytes`);
        assert.equal(done.data[`${stream}Base64`], expected[`${stream}Base64`]);
      } else {
        assert.ok(chunks.every((c) => !('dataBase64' in c)), 'no base64 unless asked');
      }
    }
    assert.deepEqual(events.map((x) => Number(x.id ?? 0)).filter((n) => n > 0), [...Array(events.length - 1).keys()].map((i) => i + 1), 'ids are the seqs 1..n');
  }
}
