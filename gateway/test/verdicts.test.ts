import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * Verdicts come from the platform, not from the program (issue 12), through the public API. Each
 * forgery is a program that only imitates a limit or a kill (the engine's error text, a status of
 * 128 + SIGKILL); each control really hits the limit or is really killed, so the same checks
 * would fail if the platform could not tell the two apart.
 */
describe('verdicts cannot be forged by the program', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1' } });
    for (const language of ['javascript', 'wasm', 'python']) await p.waitForLanguage(language);
  });
  after(async () => p?.[Symbol.asyncDispose]());

  const ended = (e: Record<string, any>) => [e.status, e.outcome, e.exitCode, e.signal];

  it("javascript (QuickJS): throwing the engine's out-of-memory error, allocating nothing, is an error", async () => {
    const forgeries = [
      // An InternalError is what QuickJS throws at its heap limit; the program can make one too.
      'throw new InternalError("out of memory")',
      'throw { name: "InternalError", message: "out of memory" }',
      'const e = new Error("out of memory"); e.name = "InternalError"; throw e',
      'throw "InternalError: out of memory"',
      'Promise.reject(new InternalError("out of memory"))',
      'async function main() { await null; throw new InternalError("out of memory") } main()',
    ];
    for (const code of forgeries) {
      const e = await p.run({ language: 'javascript', code, limits: { memoryMb: 32 } });
      assert.deepEqual(ended(e), ['completed', 'error', 1, null], `${code}: ${JSON.stringify(e)}`);
    }
  });

  it('javascript (QuickJS): a real memory bomb is memory_limit, also when the program catches and rethrows', async () => {
    const real = await p.run({ language: 'javascript', code: 'const keep = []; for (;;) keep.push(new Array(10000).fill(1))', limits: { memoryMb: 32 } });
    assert.deepEqual(ended(real), ['completed', 'memory_limit', null, null], JSON.stringify(real));
    const big = await p.run({ language: 'javascript', code: 'new ArrayBuffer(64 * 1024 * 1024)', limits: { memoryMb: 32 } });
    assert.equal(big.outcome, 'memory_limit', JSON.stringify(big));
    // Having really failed an allocation, the program's end is the limit's, whatever it throws.
    const rethrown = await p.run({ language: 'javascript', code: 'try { new ArrayBuffer(64 * 1024 * 1024) } catch (e) { throw e }', limits: { memoryMb: 32 } });
    assert.equal(rethrown.outcome, 'memory_limit', JSON.stringify(rethrown));
    // ...and one that recovers and ends normally succeeds: the evidence alone is no verdict.
    const recovered = await p.run({ language: 'javascript', code: 'try { new ArrayBuffer(64 * 1024 * 1024) } catch { console.log("recovered") }', limits: { memoryMb: 32 } });
    assert.deepEqual([recovered.outcome, recovered.stdout], ['success', 'recovered\n'], JSON.stringify(recovered));
  });

  it('wasm (WASI): proc_exit(137) is the program\'s own status, an error', async () => {
    const code = '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32))) (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const 137))))';
    const e = await p.run({ language: 'wasm', files: [{ name: 'main.wat', content: code }] });
    assert.deepEqual(ended(e), ['completed', 'error', 137, null], JSON.stringify(e));
  });

  it('container: exit(137), a self-inflicted SIGKILL and fake OOM text are errors with the status as seen', async () => {
    const forgeries = [
      'import sys\nsys.stderr.write("MemoryError\\nKilled\\n")\nsys.exit(137)',
      'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)',
    ];
    for (const code of forgeries) {
      const e = await p.run({ language: 'python', code });
      assert.deepEqual(ended(e), ['completed', 'error', 137, null], `${code}: ${JSON.stringify(e)}`);
    }
  });

  it('container: a real memory bomb is memory_limit and a cancelled program is killed (controls)', async () => {
    const bomb = await p.run({ language: 'python', code: 'x = []\nwhile True:\n    x.append(bytearray(1 << 20))', limits: { memoryMb: 64, timeoutMs: 20_000 } });
    assert.deepEqual(ended(bomb), ['completed', 'memory_limit', null, 'SIGKILL'], JSON.stringify(bomb));

    const res = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'import time\nprint("up", flush=True)\ntime.sleep(60)', limits: { timeoutMs: 30_000 } });
    assert.equal(res.status, 202, res.text);
    const id = res.json.id as string;
    for (let i = 0; i < 300; i++) {
      const e = (await p.request('GET', `/v1/evaluations/${id}`)).json;
      if (e.status === 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancel = await p.request('POST', `/v1/evaluations/${id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    let e: Record<string, any> = {};
    for (let i = 0; i < 300; i++) {
      e = (await p.request('GET', `/v1/evaluations/${id}`)).json;
      if (['completed', 'failed', 'cancelled'].includes(e.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(e.status, 'cancelled', JSON.stringify(e));
    assert.equal(e.outcome, 'killed', JSON.stringify(e));
  });
});
