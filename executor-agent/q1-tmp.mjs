import { getQuickJS, newQuickJSWASMModule, RELEASE_SYNC } from 'quickjs-emscripten';
let t = performance.now();
const qjs = await getQuickJS();
console.log('load', performance.now() - t);
function run(code, memMb = 32, ms = 2000) {
  const t = performance.now();
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(memMb * 1024 * 1024);
  rt.setMaxStackSize(1024 * 1024);
  const deadline = Date.now() + ms;
  rt.setInterruptHandler(() => Date.now() > deadline);
  const vm = rt.newContext();
  const r = vm.evalCode(code, 'main.js', { type: 'global' });
  let out;
  if (r.error) { out = ['ERR', vm.dump(r.error)]; r.error.dispose(); }
  else { out = ['OK', vm.dump(r.value)]; r.value.dispose(); }
  vm.dispose(); rt.dispose();
  console.log((performance.now() - t).toFixed(2), JSON.stringify(out).slice(0, 300), process.memoryUsage().arrayBuffers >> 20, process.memoryUsage().external >> 20);
}
run('Object.getOwnPropertyNames(globalThis).join(",")');
run('1+1'); run('1+1'); run('1+1');
run('typeof process + typeof require + typeof fetch + typeof setTimeout');

run('let a=[]; while(true) a.push(new Array(1000).fill(1))');
run('let s="x"; while(true) s+=s');
run('while(true){}', 32, 500);
run('"x".repeat(2**28).length', 512, 500);
run('"x".repeat(2**27).length', 512, 500);
run('1+1');
