import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS, type Limits } from '@crucible/storage/domain';
import { PlatformError, type RunRequest } from '../src/sandbox/sandbox.js';
import { WasmSandbox } from '../src/sandbox/wasm/index.js';

/** The globals a program may see: ECMAScript's (as QuickJS provides them) and the four we add. */
const STANDARD_GLOBALS = new Set(
  `Error EvalError RangeError ReferenceError SyntaxError TypeError URIError InternalError AggregateError
  Array Object Function Iterator parseInt parseFloat isNaN isFinite decodeURI decodeURIComponent encodeURI
  encodeURIComponent escape unescape Infinity NaN undefined eval Number Boolean String Math Reflect Symbol
  globalThis BigInt Date RegExp JSON Proxy Map Set WeakMap WeakSet ArrayBuffer SharedArrayBuffer
  Uint8ClampedArray Int8Array Uint8Array Int16Array Uint16Array Int32Array Uint32Array BigInt64Array
  BigUint64Array Float16Array Float32Array Float64Array DataView Promise WeakRef FinalizationRegistry`.split(/\s+/),
);
const SANDBOX_GLOBALS = ['args', 'console', 'exit', 'stdin'];

describe('WasmSandbox: JavaScript', () => {
  const sandbox = new WasmSandbox();
  before(() => sandbox.init());
  after(() => sandbox[Symbol.asyncDispose]());

  const run = (code: string, limits: Partial<Limits> = {}, extra: Partial<RunRequest> = {}) =>
    sandbox.run({
      evaluationId: 'js-test',
      language: 'javascript',
      files: [{ name: 'main.js', content: code, encoding: 'utf8' }],
      stdin: '',
      args: [],
      limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
      ...extra,
    });

  /**
   * Runs `code` and checks that it ended as `outcome`, no later than a few seconds past its
   * deadline by the sandbox's own durationMs (never the test's clock: a loaded host is slow), and
   * for a timeout not before the deadline either.
   */
  const endsWithin = async (code: string, outcome: string, limits: Partial<Limits>) => {
    const timeoutMs = limits.timeoutMs ?? 1000;
    const r = await run(code, { ...limits, timeoutMs });
    assert.equal(r.outcome, outcome, r.stderr);
    assert.ok(r.durationMs <= timeoutMs + 5000, `ended ${r.durationMs} ms after it started (deadline ${timeoutMs} ms)`);
    if (outcome === 'timeout') assert.ok(r.durationMs >= timeoutMs - 50, `timed out after ${r.durationMs} ms, before its ${timeoutMs} ms deadline`);
    return r;
  };

  it('exposes no host objects', async () => {
    const r = await run(`
      console.log([typeof process, typeof require, typeof fetch, typeof setTimeout, typeof WebAssembly,
        typeof module, typeof Buffer, typeof std, typeof os, typeof Deno, typeof performance].join(' '));
      console.log(JSON.stringify(Object.getOwnPropertyNames(globalThis)));`);
    assert.equal(r.outcome, 'success', r.stderr);
    const [types, names] = r.stdout.split('\n');
    assert.equal(types, Array(11).fill('undefined').join(' '));
    const extra = (JSON.parse(names!) as string[]).filter((n) => !STANDARD_GLOBALS.has(n)).sort();
    assert.deepEqual(extra, SANDBOX_GLOBALS);
  });

  it('gives each run a fresh context', async () => {
    await run('globalThis.leftover = 1; Object.prototype.polluted = 1');
    const r = await run('console.log(typeof leftover, typeof {}.polluted)');
    assert.equal(r.stdout, 'undefined undefined\n');
  });

  it('provides stdin, args and exit', async () => {
    const r = await run('console.log(JSON.stringify({ stdin, args })); exit(5); console.log("after exit")', {}, {
      stdin: 'line\n',
      args: ['a', 'b c'],
    });
    assert.equal(r.stdout, '{"stdin":"line\\n","args":["a","b c"]}\n');
    assert.equal(r.exitCode, 5);
    const caught = await run('try { exit(0) } catch { console.log("caught") } finally { console.log("finally") }');
    assert.equal(caught.outcome, 'success');
    assert.equal(caught.stdout, '');
  });

  it('formats console output like Node', async () => {
    const r = await run(`
      console.log('a', 1, -0, 10n, null, undefined, [1, 'two', [3]], { x: { y: { z: { w: 1 } } } }, new Map([[1, 2]]));
      console.log('%s is %d%%', 'rate', 42.5, 'extra');
      console.error(new Error('shown'));
      const o = {}; o.self = o; console.info(o);`);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], "a 1 -0 10n null undefined [ 1, 'two', [ 3 ] ] { x: { y: { z: [Object] } } } Map(1) { 1 => 2 }");
    assert.equal(lines[1], 'rate is 42.5% extra');
    assert.equal(lines[2], '{ self: [Circular] }');
    assert.match(r.stderr, /^Error: shown\n {4}at <eval> \(main\.js:4/);
  });

  it('reports uncaught exceptions and rejected async mains on stderr with exit 1', async () => {
    const thrown = await run('function fail() { throw new TypeError("bad input") }\nfail()');
    assert.equal(thrown.outcome, 'error');
    assert.equal(thrown.exitCode, 1);
    assert.match(thrown.stderr, /^TypeError: bad input\n {4}at fail \(main\.js:1/);
    const rejected = await run('async function main() { await null; throw new Error("later") }\nmain()');
    assert.equal(rejected.exitCode, 1);
    assert.match(rejected.stderr, /Error: later/);
    const syntax = await run('let = ;');
    assert.equal(syntax.exitCode, 1);
    assert.match(syntax.stderr, /SyntaxError/);
    const overflow = await run('function f() { return f() + 1 }\nf()');
    assert.match(overflow.stderr, /stack overflow/);
    assert.ok(overflow.stderr.split('\n').length < 15, 'stack trace trimmed');
  });

  it('stops a memory bomb at the memory limit', async () => {
    const arrays = await endsWithin('const keep = []; for (;;) keep.push(new Array(10000).fill(1))', 'memory_limit', { memoryMb: 32 });
    assert.match(arrays.stderr, /out of memory/);
    await endsWithin("const keep = []; for (;;) keep.push('x'.repeat(1 << 20))", 'memory_limit', { memoryMb: 32 });
    await endsWithin('new ArrayBuffer(64 * 1024 * 1024)', 'memory_limit', { memoryMb: 32 });
  });

  it('ends a tight loop at the deadline', async () => {
    await endsWithin('while (true) {}', 'timeout', {});
  });

  it('ends long native calls at the deadline from outside the engine', async () => {
    // Neither consults the interrupt handler: 'repeat' fills 256 MiB in one call (0.3-3 s on the
    // machines seen, so its deadline is far shorter: it cannot finish first), and JSON.stringify of
    // deep nesting is quadratic (over 20 s here).
    await endsWithin("'x'.repeat(2 ** 28).length", 'timeout', { memoryMb: 512, timeoutMs: 100 });
    await endsWithin('let o = []; for (let i = 0; i < 1e5; i++) o = [o]; JSON.stringify(o).length', 'timeout', {});
    const next = await run('console.log("still here")');
    assert.equal(next.stdout, 'still here\n');
  });

  it('caps one huge write', async () => {
    const r = await run("console.log('é'.repeat(1e6))", { outputBytes: 4097 });
    assert.equal(r.outcome, 'output_limit');
    assert.equal(r.stdoutTruncated, true);
    assert.equal(Buffer.byteLength(r.stdout), 4096, 'cut before a split character');
  });

  it('refuses a memory limit below what the engine needs', async () => {
    const r = await run('console.log(1)', { memoryMb: 8 });
    assert.equal(r.outcome, 'memory_limit');
    assert.match(r.stderr, /at least 16 MiB/);
  });

  it('reports a run aborted before it started as killed', async () => {
    const r = await run('console.log(1)', {}, { signal: AbortSignal.abort() });
    assert.equal(r.outcome, 'killed');
    assert.equal(r.stdout, '');
  });

  // How fast warm runs are is measured by `npm run bench:wasm` (bench/RESULTS.md), not asserted here.
  it('calls onStart once per run, also for warm runs', async () => {
    let started = 0;
    await run('1', {}, { onStart: () => started++ });
    assert.equal(started, 1);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 10)); // let the spare instance be prepared
      const r = await run('console.log(42)', {}, { onStart: () => started++ });
      assert.equal(r.stdout, '42\n');
    }
    assert.equal(started, 4);
  });

  it('rejects unknown languages and runs after disposal as platform errors', async () => {
    await assert.rejects(sandbox.run({ ...baseRequest, language: 'cobol' }), PlatformError);
    const disposed = new WasmSandbox();
    await disposed[Symbol.asyncDispose]();
    await assert.rejects(disposed.run(baseRequest), PlatformError);
  });
});

const baseRequest: RunRequest = {
  evaluationId: 'js-test',
  language: 'javascript',
  files: [{ name: 'main.js', content: '1', encoding: 'utf8' }],
  stdin: '',
  args: [],
  limits: { ...DEFAULT_LIMITS },
};
