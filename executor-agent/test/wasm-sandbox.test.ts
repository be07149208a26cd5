import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import wabtInit from 'wabt';
import { DEFAULT_LIMITS, type Limits, type SourceFile } from '@crucible/storage/domain';
import type { RunRequest } from '../src/sandbox/sandbox.js';
import { WasmSandbox } from '../src/sandbox/wasm/index.js';
import { sandboxConformance } from './sandbox-conformance.js';

sandboxConformance('wasm javascript', async () => new WasmSandbox(), {
  language: 'javascript',
  hello: 'console.log(42)',
  // console.log always ends with a newline (there is no raw write), so drop the input's own.
  echoStdin: "console.log(stdin.replace(/\\n$/, ''))",
  exitThree: "console.error('oops'); exit(3)",
  spin: 'while (true) {}',
  printThenSpin: 'console.log(42); while (true) {}',
  flood: "while (true) console.log('flood flood flood flood')",
  controls: 'console.log("a\\0b\\x1b[0m\\r")',
});

// WASI programs in WebAssembly text. Layout: an iovec at 0, a result word at 20, data from 64.
const wasi = (body: string, memory = '(memory (export "memory") 1)') => `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ${memory}
  (data (i32.const 64) "42\\n")
  (data (i32.const 80) "oops")
  (data (i32.const 96) "a\\00b\\1b[0m\\0d\\0a")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 20))))
  ${body})`;

const hello = wasi(`(func (export "_start") (call $write (i32.const 1) (i32.const 64) (i32.const 3)))`);

/** Copies stdin to stdout in 4 KiB reads until end of input. */
const echoStdin = wasi(`(func (export "_start") (local $n i32)
  (block $eof (loop $next
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 4096))
    (br_if $eof (i32.ne (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 20)) (i32.const 0)))
    (local.set $n (i32.load (i32.const 20)))
    (br_if $eof (i32.eqz (local.get $n)))
    (call $write (i32.const 1) (i32.const 1024) (local.get $n))
    (br $next))))`);

/** Prints each argument after argv[0] on its own line: argv's strings are contiguous and NUL-terminated. */
const printArgs = wasi(`(func (export "_start") (local $p i32) (local $end i32)
  (drop (call $args_sizes_get (i32.const 24) (i32.const 28)))
  (drop (call $args_get (i32.const 1024) (i32.const 8192)))
  (if (i32.lt_u (i32.load (i32.const 24)) (i32.const 2)) (then (return)))
  (local.set $end (i32.add (i32.const 8192) (i32.load (i32.const 28))))
  (local.set $p (i32.const 8192))
  (loop $scan
    (if (i32.eqz (i32.load8_u (local.get $p))) (then (i32.store8 (local.get $p) (i32.const 10))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br_if $scan (i32.lt_u (local.get $p) (local.get $end))))
  (local.set $p (i32.load (i32.const 1028)))
  (call $write (i32.const 1) (local.get $p) (i32.sub (local.get $end) (local.get $p))))`);

/** Grows memory by `pages`; exits 7 if refused. */
const grow = (pages: number, memory?: string) =>
  wasi(`(func (export "_start") (if (i32.eq (memory.grow (i32.const ${pages})) (i32.const -1)) (then (call $proc_exit (i32.const 7)))))`, memory);

/** Creates a file in the in-memory filesystem (fd 4 is the "." preopen) and appends 64 KiB blocks forever. */
const fileBomb = `(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "bomb.bin")
  (func (export "_start") (local $fd i32)
    (drop (call $path_open (i32.const 4) (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 1)
      (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 200)))
    (local.set $fd (i32.load (i32.const 200)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 65536))
    (loop $forever (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 20))) (br $forever))))`;

sandboxConformance('wasm wasi', async () => new WasmSandbox(), {
  language: 'wasm',
  hello,
  echoStdin,
  exitThree: wasi(`(func (export "_start") (call $write (i32.const 2) (i32.const 80) (i32.const 4)) (call $proc_exit (i32.const 3)))`),
  spin: wasi(`(func (export "_start") (loop $forever (br $forever)))`),
  printThenSpin: wasi(`(func (export "_start") (call $write (i32.const 1) (i32.const 64) (i32.const 3)) (loop $forever (br $forever)))`),
  flood: wasi(`(func (export "_start") (loop $forever (call $write (i32.const 1) (i32.const 64) (i32.const 3)) (br $forever)))`),
  controls: wasi(`(func (export "_start") (call $write (i32.const 1) (i32.const 96) (i32.const 9)))`),
});

describe('WasmSandbox: WASI programs', () => {
  const sandbox = new WasmSandbox();
  before(() => sandbox.init());
  after(() => sandbox[Symbol.asyncDispose]());

  const run = (file: string | SourceFile, extra: Partial<RunRequest> = {}, limits: Partial<Limits> = {}) =>
    sandbox.run({
      evaluationId: 'wasi-test',
      language: 'wasm',
      files: [typeof file === 'string' ? { name: 'main.wat', content: file, encoding: 'utf8' } : file],
      stdin: '',
      args: [],
      limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
      ...extra,
    });

  it('passes arguments and stdin to the program', async () => {
    const args = await run(printArgs, { args: ['first', 'with space', ''] });
    assert.equal(args.outcome, 'success', args.stderr);
    assert.equal(args.stdout, 'first\nwith space\n\n');
    const input = 'x'.repeat(10_000) + '\nend\n';
    const echo = await run(echoStdin, { stdin: input });
    assert.equal(echo.stdout, input);
  });

  it('runs a base64-encoded binary module', async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('hello.wat', hello);
    const binary = parsed.toBinary({}).buffer;
    parsed.destroy();
    const r = await run({ name: 'hello.wasm', content: Buffer.from(binary).toString('base64'), encoding: 'base64' });
    assert.equal(r.outcome, 'success', r.stderr);
    assert.equal(r.stdout, '42\n');
  });

  it('reports malformed programs as errors with a message, not a throw', async () => {
    const text = await run('(module (func (export "_start") (call $nowhere)))');
    assert.equal(text.outcome, 'error');
    assert.equal(text.exitCode, null);
    assert.match(text.stderr, /invalid WebAssembly text[\s\S]*undefined function variable "\$nowhere"/);

    const truncated = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01]);
    const binary = await run({ name: 'main.wasm', content: truncated.toString('base64'), encoding: 'base64' });
    assert.equal(binary.outcome, 'error');
    assert.match(binary.stderr, /invalid WebAssembly module/);

    const notWasm = await run({ name: 'main.wasm', content: Buffer.from('hello').toString('base64'), encoding: 'base64' });
    assert.match(notWasm.stderr, /not a WebAssembly binary/);

    const noStart = await run('(module (memory (export "memory") 1))');
    assert.match(noStart.stderr, /must export a function named _start/);
  });

  it('refuses a module whose memory starts above the limit', async () => {
    const r = await run(hello.replace('(memory (export "memory") 1)', '(memory (export "memory") 300)'), {}, { memoryMb: 16 });
    assert.equal(r.outcome, 'error');
    assert.match(r.stderr, /memory starts at 300 pages .* above the memory limit of 256 pages \(16 MiB\)/);
  });

  it('refuses imported memories and anything but WASI preview 1', async () => {
    const imported = await run('(module (import "wasi_snapshot_preview1" "memory" (memory 1)) (func (export "_start")))');
    assert.match(imported.stderr, /import their memory/);
    const wasix = await run('(module (import "wasix_32v1" "thread_spawn" (func)) (memory (export "memory") 1) (func (export "_start")))');
    assert.equal(wasix.outcome, 'error');
    assert.match(wasix.stderr, /only wasi_snapshot_preview1 may be imported/);
  });

  it('bounds a memory that declares no maximum, or a larger one, at the limit', async () => {
    // 16 MiB = 256 pages: growing 1 page by 200 fits, by 300 does not.
    assert.equal((await run(grow(200), {}, { memoryMb: 16 })).exitCode, 0);
    assert.equal((await run(grow(300), {}, { memoryMb: 16 })).exitCode, 7);
    assert.equal((await run(grow(300, '(memory (export "memory") 1 60000)'), {}, { memoryMb: 16 })).exitCode, 7);
    // A declared maximum below the limit still applies.
    assert.equal((await run(grow(5, '(memory (export "memory") 1 2)'), {}, { memoryMb: 16 })).exitCode, 7);
  });

  it('ends a program filling the in-memory filesystem at the memory limit', async () => {
    const r = await run(fileBomb, {}, { memoryMb: 32, timeoutMs: 10_000 });
    assert.equal(r.outcome, 'memory_limit', r.stderr);
    assert.match(r.stderr, /exceeded the memory limit of 32 MiB/);
    assert.ok(r.durationMs < 10_000, `ran ${r.durationMs} ms: ended by the limit, before its deadline`);
  });

  it('reports a trap as an error, keeping what was written before it', async () => {
    const r = await run(wasi(`(func (export "_start") (call $write (i32.const 1) (i32.const 64) (i32.const 3)) (drop (i32.load (i32.const 70000))))`));
    assert.equal(r.outcome, 'error');
    assert.equal(r.stdout, '42\n');
    assert.match(r.stderr, /trapped: memory access out of bounds/);
  });

  it('runs again promptly after a worker was terminated at a deadline', async () => {
    const spin = await run(wasi(`(func (export "_start") (loop $l (br $l)))`), {}, { timeoutMs: 300 });
    assert.equal(spin.outcome, 'timeout');
    const r = await run(hello);
    assert.equal(r.outcome, 'success', r.stderr);
    assert.equal(r.stdout, '42\n');
  });
});
