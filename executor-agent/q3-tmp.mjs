import { getQuickJS } from 'quickjs-emscripten';
const qjs = await getQuickJS();
function run(code, memMb = 32, ms = 2000) {
  const t = performance.now();
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(memMb * 1024 * 1024);
  rt.setMaxStackSize(256 * 1024);
  const deadline = Date.now() + ms;
  rt.setInterruptHandler(() => Date.now() > deadline);
  const vm = rt.newContext();
  const r = vm.evalCode(code, 'main.js', { type: 'global' });
  let out;
  if (r.error) { out = ['ERR', vm.dump(r.error)]; r.error.dispose(); }
  else { out = ['OK', vm.dump(r.value)]; r.value.dispose(); }
  console.log(rt.dumpMemoryUsage().split('\n').join(' | '));
  vm.dispose(); rt.dispose();
  console.log((performance.now() - t).toFixed(2), JSON.stringify(out).slice(0, 300), process.memoryUsage().arrayBuffers >> 20, process.memoryUsage().external >> 20);
}
run('let a=[]; let i=0; try { while(i<20000) {a.push(new Array(1000).fill(1)); i++} } catch(e) { String(e) } ; i');
run('let a=[]; let i=0; try { while(i<2000000) {a.push({x:i}); i++} } catch(e) { String(e) } ; i');
run('let a=[]; let i=0; try { while(i<2000000) {a.push("abc"+i); i++} } catch(e) { String(e) } ; i');
