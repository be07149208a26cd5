import { getQuickJS } from 'quickjs-emscripten';
const qjs = await getQuickJS();
function run(code, stack) {
  const rt = qjs.newRuntime();
  rt.setMemoryLimit(64 * 1024 * 1024);
  if (stack !== undefined) rt.setMaxStackSize(stack);
  const vm = rt.newContext();
  try {
    const r = vm.evalCode(code, 'main.js', { type: 'global' });
    if (r.error) { console.log(stack, 'ERR', JSON.stringify(vm.dump(r.error))); r.error.dispose(); } else { console.log(stack, 'OK', vm.dump(r.value)); r.value.dispose(); }
  } catch (e) { console.log(stack, 'HOST THROW', String(e)); return; }
  vm.dispose(); rt.dispose();
}
const code = 'let d=0; function f(){d++; return f()+1} try { f() } catch(e) { String(e) + " depth " + d }';
const code2 = 'let d=0; function f(a){d++; return [a].map(x=>f(x))} try { f(1) } catch(e) { String(e) + " depth " + d }';
const code3 = 'let d=0; const o={}; let cur=o; for(let i=0;i<1e6;i++){cur.x={}; cur=cur.x}; try { JSON.stringify(o).length } catch(e) { String(e) }';
for (const s of [undefined, 0, 128*1024, 256*1024, 512*1024]) { run(code, s); run(code2, s); run(code3, s); }
