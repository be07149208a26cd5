import wabtInit from 'wabt';
import { Wasmer } from '@wasmer/sdk/node';
const wabt = await wabtInit();
const W = (body, mem = '(memory (export "memory") 1)') => { const m = wabt.parseWat('a.wat', `(module
 (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
 ${mem}
 (data (i32.const 8) "42\\n")
 ${body})`); const b = m.toBinary({}).buffer; m.destroy(); return b; };
const hello = W(`(func (export "_start") (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 3)) (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))))`);
const spin = W(`(func (export "_start") (loop $l (br $l)))`);
const flood = W(`(func (export "_start") (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 3)) (loop $l (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20))) (br $l)))`);
const wasmer = new Wasmer({ cache: false });
await wasmer.ready();
async function go(name, bin, killAfter) {
  const t = performance.now();
  const pkg = await wasmer.packages.load(bin);
  const sb = await wasmer.sandboxes.create({ packages: [pkg], network: { mode: 'disabled' } });
  const p = await sb.command(pkg, ['x']).spawn({ stdin: 'closed', stdout: 'pipe', stderr: 'pipe', timeoutMs: 1000 });
  console.log('spawned', (performance.now() - t).toFixed(1));
  let n = 0;
  const pump = (async () => { for await (const c of p.stdout) { n += c.length; if (n > 4096 && !p.killed) { p.killed = true; const tk = performance.now(); await p.kill(); console.log('kill took', performance.now() - tk); } } })();
  if (killAfter) setTimeout(async () => { const tk = performance.now(); await p.kill(); console.log('kill took', performance.now() - tk); }, killAfter);
  const out = await p.wait();
  await pump;
  await sb.close();
  console.log(name, (performance.now() - t).toFixed(1), out.exitCode, out.reason, n);
}
await go('hello', hello);
await go('hello', hello);
await go('hello', hello);
await go('flood', flood);
await go('spin', spin, 300);
await go('hello', hello);
await wasmer.close();
