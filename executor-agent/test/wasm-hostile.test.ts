// Hostile programs against the Wasm sandbox, one per limit or boundary not covered by
// wasm-sandbox.test.ts and wasm-javascript.test.ts: QuickJS's std/os modules, WASI tables (which
// live outside linear memory, so the memory limit does not bound them), and the host filesystem.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS, type Limits } from '@crucible/storage/domain';
import { WasmSandbox } from '../src/sandbox/wasm/index.js';
import { MAX_TABLE_ELEMENTS } from '../src/sandbox/wasm/table-limit.js';

describe('Wasm sandbox under attack', () => {
  const sandbox = new WasmSandbox();
  before(() => sandbox.init());
  after(() => sandbox[Symbol.asyncDispose]());
  let n = 0;
  const run = (language: 'javascript' | 'wasm', content: string, limits: Partial<Limits> = {}) =>
    sandbox.run({
      evaluationId: `wasm-hostile-${++n}`,
      language,
      files: [{ name: language === 'wasm' ? 'main.wat' : 'main.js', content, encoding: 'utf8' }],
      stdin: '',
      args: [],
      limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
    });

  it("JavaScript cannot load QuickJS's std or os modules (files, processes, sockets)", async () => {
    const r = await run(
      'javascript',
      `for (const m of ['std', 'os', 'qjs:std', 'qjs:os']) import(m).then(() => console.log(m + ' loaded'), () => console.log(m + ' refused'));
       console.log(typeof std, typeof os, typeof scriptArgs, typeof print, typeof require);`,
    );
    assert.equal(r.outcome, 'success', r.stderr);
    assert.equal(r.stdout, 'undefined undefined undefined undefined undefined\nstd refused\nos refused\nqjs:std refused\nqjs:os refused\n');
  });

  it('refuses a WASI module whose table starts above the table limit', async () => {
    const r = await run('wasm', `(module (memory (export "memory") 1) (table 9000000 funcref) (func (export "_start")))`);
    assert.equal(r.outcome, 'error');
    assert.match(r.stderr, new RegExp(`table starts with 9000000 elements, above the limit of ${MAX_TABLE_ELEMENTS}`));
  });

  it('refuses a WASI module that imports its table', async () => {
    const r = await run('wasm', `(module (import "env" "t" (table 1 funcref)) (memory (export "memory") 1) (func (export "_start")))`);
    assert.equal(r.outcome, 'error');
    assert.match(r.stderr, /import env\.t is not available|import a table/);
  });

  it('makes table.grow fail past the table limit, however large the declared maximum', async () => {
    // Exits with 100 + table.grow's result: 99 when the grow was refused (-1).
    const grow = (max: string) => `(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1) (table 1 ${max} funcref)
      (func (export "_start") (call $exit (i32.add (i32.const 100) (table.grow (ref.null func) (i32.const 9000000))))))`;
    for (const max of ['', '4000000000']) {
      const r = await run('wasm', grow(max));
      assert.equal(r.exitCode, 99, `max "${max}": ${r.stderr}`);
    }
  });

  it('gives a WASI program no host files: opening host paths fails', async () => {
    // path_open(dirfd 3, ...) on each path; exits with the first errno that is 0 (opened) as 1, else 0.
    const paths = ['etc/passwd', '../etc/passwd', '/etc/passwd', '../../proc/self/environ', 'work'];
    const data = paths.map((p, i) => `(data (i32.const ${1024 + i * 64}) "${p}")`).join('\n');
    const opens = paths
      .map((p, i) => `(if (i32.eqz (call $open (i32.const 3) (i32.const 1) (i32.const ${1024 + i * 64}) (i32.const ${p.length}) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16))) (then (call $exit (i32.const ${i + 1}))))`)
      .join('\n');
    const r = await run(
      'wasm',
      `(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        ${data}
        (func (export "_start") ${opens} (call $exit (i32.const 0))))`,
    );
    assert.equal(r.exitCode, 0, `opened ${paths[(r.exitCode ?? 1) - 1]}`);
    // The control: the same call does open the sandbox's own (in-memory) root directory, so the
    // failures above are the boundary, not a broken probe. oflags 2 = O_DIRECTORY.
    const created = await run(
      'wasm',
      `(module
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 1024) ".")
        (func (export "_start") (call $exit (call $open (i32.const 3) (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 2) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))))`,
    );
    assert.equal(created.exitCode, 0, `opening the in-memory root failed with errno ${created.exitCode}`);
  });
});
