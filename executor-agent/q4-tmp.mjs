import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } from 'quickjs-emscripten';
import { readFile } from 'node:fs/promises';
const wasmPath = new URL(import.meta.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
let t = performance.now();
const compiled = await WebAssembly.compile(await readFile(wasmPath));
console.log('compile', performance.now() - t);
async function run(code, memMb = 32, ms = 2000) {
  const t = performance.now();
  const memory = new WebAssembly.Memory({ initial: 256, maximum: memMb * 16 });
  const qjs = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: compiled, wasmMemory: memory }));
  const t0 = performance.now();
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(memMb * 1024 * 1024);
  rt.setMaxStackSize(256 * 1024);
  const deadline = Date.now() + ms;
  rt.setInterruptHandler(() => Date.now() > deadline);
  const vm = rt.newContext();
  let out;
  try {
  const r = vm.evalCode(code, 'main.js', { type: 'global' });
  if (r.error) { out = ['ERR', vm.dump(r.error)]; r.error.dispose(); }
  else { out = ['OK', vm.dump(r.value)]; r.value.dispose(); }
  vm.dispose(); rt.dispose();
  } catch (e) { out = ['HOST', String(e)] }
  console.log((t0 - t).toFixed(2), (performance.now() - t0).toFixed(2), JSON.stringify(out).slice(0, 300), memory.buffer.byteLength >> 20, process.memoryUsage().external >> 20);
}
await run('1+1'); await run('1+1'); await run('1+1'); await run('1+1');
await run('let a=[]; let i=0; try { while(i<20000) {a.push(new Array(1000).fill(1)); i++} } catch(e) { String(e) } ; i');
await run('let a=[]; let i=0; while(i<20000) {a.push(new Array(1000).fill(1)); i++}');
await run('let a=[]; let i=0; try { while(i<2000000) {a.push({x:i}); i++} } catch(e) { String(e) } ; i');
await run('let s="x"; while(true) s+=s');
await run('"x".repeat(2**28).length', 32, 500);
await run('"x".repeat(2**24).length', 64, 500);
await run('new ArrayBuffer(2**30)', 64, 500);
await run('let a = []; for (let i=0;i<1e5;i++) a.push(new ArrayBuffer(1e4)); a.length', 64, 500);
await run('1+1');
global.gc?.(); await new Promise(r => setTimeout(r, 100)); global.gc?.();
console.log(process.memoryUsage().external >> 20);
