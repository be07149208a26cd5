import wabtInit from 'wabt';
import { Wasmer } from '@wasmer/sdk/node';
const wabt = await wabtInit();
const W = (body, mem = '(memory (export "memory") 1)') => { const m = wabt.parseWat('a.wat', `(module
 (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
 (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
 ${mem}
 (data (i32.const 8) "42\\n")
 (data (i32.const 16) "oops")
 ${body})`); const b = m.toBinary({}).buffer; m.destroy(); return b; };
const hello = W(`(func (export "_start") (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 3)) (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))))`);
const oops = W(`(func (export "_start") (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4)) (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 20))) (call $proc_exit (i32.const 3)))`);
const spin = W(`(func (export "_start") (loop $l (br $l)))`);
const flood = W(`(func (export "_start") (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 3)) (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))) (br $l)))`);
const echo = W(`(func (export "_start") (local $n i32)
  (block $done (loop $l
    (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 4096))
    (br_if $done (i32.ne (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 20)) (i32.const 0)))
    (local.set $n (i32.load (i32.const 20)))
    (br_if $done (i32.eqz (local.get $n)))
    (i32.store (i32.const 4) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))
    (br $l))))`);
const grow = (mem) => W(`(func (export "_start") (local $r i32) (local.set $r (memory.grow (i32.const 100))) (if (i32.eq (local.get $r) (i32.const -1)) (then (call $proc_exit (i32.const 7)))) (call $proc_exit (i32.const 0)))`, mem);
const wasmer = new Wasmer({ cache: false });
await wasmer.ready();
async function go(name, bin, opts = {}) {
  const t = performance.now();
  try {
    const pkg = await wasmer.packages.load(bin);
    const sb = await wasmer.sandboxes.create({ packages: [pkg], network: { mode: 'disabled' } });
    const out = await sb.command(pkg, ['x', 'y']).run({ check: false, timeoutMs: 1000, outputBytes: 4096, ...opts });
    await sb.close();
    console.log(name, (performance.now() - t).toFixed(1), out.exitCode, out.reason, JSON.stringify(out.stdout.text().slice(0, 40)), out.stdout.bytes.length, out.stdout.truncated, JSON.stringify(out.stderr.text()));
  } catch (e) { console.log(name, 'THROW', e.code, e.message); }
}
await go('hello', hello); await go('oops', oops); await go('spin', spin); await go('flood', flood);
await go('echo', echo, { stdin: 'hello\nworld\n' });
await go('echo-nostdin', echo);
await go('grow-nomax', grow('(memory (export "memory") 1)'));
await go('grow-max2', grow('(memory (export "memory") 1 2)'));
await go('grow-max200', grow('(memory (export "memory") 1 200)'));
await go('bad', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 99]));
await go('nostart', (() => { const m = wabt.parseWat('a', '(module)'); return m.toBinary({}).buffer })());
await go('hello', hello);
await wasmer.close();
