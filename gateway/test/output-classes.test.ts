/**
 * Output is data, whatever its bytes (issue 12): one focused example per class of hostile output,
 * through the public API of a real platform (PGlite, Docker, both Wasm engines). The property
 * test (output-bytes-property.test.ts) covers arbitrary mixes; these name each class.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';
import { assertOutputRoundTrip, parseSseStrict, pythonWriting, quickJsPrinting, utf8Of, wasiWriting } from './output-bytes.js';

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
const bytesOf = (base64: string) => Buffer.from(base64, 'base64');

describe('output classes, each stored and returned without harm', () => {
  let p: Platform;

  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '2' } });
    await Promise.all([p.waitForLanguage('python'), p.waitForLanguage('wasm'), p.waitForLanguage('javascript'), p.waitForLanguage('c')]);
  });
  after(async () => {
    await p?.[Symbol.asyncDispose]();
  });

  /** After each hostile case the platform still runs a benign evaluation to its end. */
  async function assertBenignStillRuns(): Promise<void> {
    const e = await p.run({ language: 'javascript', code: 'console.log("still fine")' });
    assert.equal(e.stdout, 'still fine\n');
  }

  it('NUL: print("a\\0b") completes, JSON carries \\u0000, nothing stalls', async () => {
    const res = await p.request('POST', '/v1/evaluations?wait=60', { language: 'python', code: 'print("a\\0b")\nimport sys\nprint("x\\0", file=sys.stderr)' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.outcome, 'success');
    assert.equal(res.json.stdout, 'a\0b\n');
    assert.equal(res.json.stderr, 'x\0\n');
    assert.ok(res.text.includes('"stdout":"a\\u0000b\\n"'), 'NUL as \\u0000 in the JSON text');
    await assertBenignStillRuns();
  });

  it('NUL in QuickJS output and in an uncaught exception: nothing after it is dropped', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("a\\0b\\0\\0c"); throw new Error("bad\\0tail")' });
    assert.equal(e.outcome, 'error');
    assert.equal(e.stdout, 'a\0b\0\0c\n');
    assert.match(e.stderr, /^Error: bad\0tail\n/);
  });

  it('invalid UTF-8 and CESU-8 surrogates: U+FFFD in the text, exact in base64', async () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xed, 0xa0, 0x80, 0xc3, 0x0a, 0xc0, 0xaf]);
    await assertOutputRoundTrip(p, pythonWriting(bytes, Buffer.from([0x80])), bytes, Buffer.from([0x80]));
    const e = await p.request('GET', `/v1/evaluations?limit=1`);
    assert.equal(e.json.items[0].stdout, 'a\ufffd\ufffdb\ufffd\ufffd\ufffd\ufffd\n\ufffd\ufffd');
  });

  it('lone surrogates in QuickJS strings: one U+FFFD each, as Node writes them', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("%s", "x\\ud800y\\udfffz\\ud83d\\ude00")' }, 60);
    assert.equal(e.stdout, 'x\ufffdy\ufffdz\u{1f600}\n');
  });

  it('CR, ANSI escapes and SSE framing: kept as data, every SSE event well formed, no forged event', async () => {
    const hostile = Buffer.from('\r\x1b[2J\x1b[31mred\x1b[0m\r\n\n\ndata: {"forged":true}\n\nevent: done\ndata: {}\n\nid: 999\n\n: comment\n');
    await assertOutputRoundTrip(p, pythonWriting(hostile, hostile), hostile, hostile);
    await assertOutputRoundTrip(p, wasiWriting(hostile, hostile), hostile, hostile);
    await assertOutputRoundTrip(p, quickJsPrinting(hostile.toString(), ''), utf8Of(`${hostile.toString()}\n`), utf8Of('\n'));
  });

  it('a character split across output chunks reaches SSE whole, never as two U+FFFD', async () => {
    const code = 'import sys, time\nfor part in (b"\\xc3", b"\\xa9\\xe2\\x82", b"\\xac\\n"):\n    sys.stdout.buffer.write(part); sys.stdout.buffer.flush(); time.sleep(0.3)';
    const res = await p.request('POST', '/v1/evaluations?wait=60', { language: 'python', code });
    assert.equal(res.json.stdout, 'é€\n');
    const events = parseSseStrict(await (await fetch(`${p.url}/v1/evaluations/${res.json.id}/events`, { headers: p.auth() })).text());
    const chunks = events.filter((e) => e.event === 'stdout').map((e) => e.data.data as string);
    assert.ok(chunks.length >= 1);
    assert.equal(chunks.join(''), 'é€\n');
    assert.ok(chunks.every((c) => !c.includes('\ufffd')), `chunks: ${JSON.stringify(chunks)}`);
  });

  it('megabyte lines: a 1 MB line comes back exactly; past the cap, cut at the byte cap, never inside a character', async () => {
    const line = Buffer.alloc(1_000_000, 'x');
    line[0] = 0;
    line[500_000] = 0xff;
    await assertOutputRoundTrip(p, pythonWriting(line, Buffer.alloc(0)), line, Buffer.alloc(0));

    // 'é' is two bytes: an odd cap falls inside one, which is left out whole.
    const cap = 100_001;
    const e = await p.request('POST', '/v1/evaluations?wait=60&output=base64', {
      language: 'python',
      code: 'import sys\nsys.stdout.buffer.write("é".encode() * 200000)',
      limits: { outputBytes: cap },
    });
    assert.equal(e.json.outcome, 'output_limit');
    assert.equal(e.json.stdoutTruncated, true);
    const kept = bytesOf(e.json.stdoutBase64);
    assert.equal(kept.length, cap - 1);
    assert.equal(e.json.stdout, 'é'.repeat((cap - 1) / 2));
  });

  it("the compile step's output keeps its bytes: compile.stdoutBase64/stderrBase64", async () => {
    // gcc quotes the offending source line, raw bytes and all, in its diagnostics.
    const source = Buffer.concat([Buffer.from('#error bad \xff byte\n', 'latin1'), Buffer.from('int main(void){return 0;}\n')]);
    const res = await p.request('POST', '/v1/evaluations?wait=60&output=base64', {
      language: 'c',
      files: [{ name: 'main.c', content: b64(source), encoding: 'base64' }],
    });
    assert.equal(res.status, 201, res.text);
    const c = res.json.compile;
    assert.ok(c, 'a compile step');
    assert.notEqual(c.exitCode, 0);
    const stderr = bytesOf(c.stderrBase64);
    assert.ok(stderr.includes(Buffer.from(' \xff byte', 'latin1')), `gcc's message keeps the byte: ${c.stderr}`);
    assert.equal(c.stderr, stderr.toString('utf8'));
    assert.ok(c.stderr.includes('bad \ufffd byte'));
    assert.equal(typeof c.stdoutBase64, 'string');
    // Without ?output=base64 the compile step has its documented fields only.
    const plain = await p.request('GET', `/v1/evaluations/${res.json.id}`);
    assert.deepEqual(Object.keys(plain.json.compile).sort(), ['durationMs', 'exitCode', 'stderr', 'stdout']);
    await assertBenignStillRuns();
  });

  it('?output accepts text and base64 only: anything else is a 400 with the field', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log(1)' });
    for (const path of [`/v1/evaluations/${e.id}?output=hex`, `/v1/evaluations?output=raw`, `/v1/evaluations/${e.id}/events?output=1`]) {
      const res = await p.request('GET', path);
      assert.equal(res.status, 400, path);
      assert.equal(res.json.error.code, 'invalid_request');
      assert.deepEqual(res.json.error.details, { field: 'output' });
    }
    const text = await p.request('GET', `/v1/evaluations/${e.id}?output=text`);
    assert.equal(text.status, 200);
    assert.equal(text.json.stdoutBase64, undefined);
  });
});
