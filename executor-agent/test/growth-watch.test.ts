import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchGrowth } from '../src/sandbox/wasm/growth-watch.js';
import { wasmApi } from '../src/sandbox/wasm/wasm-api.js';

/** The QuickJS memory_limit evidence (issue 12): only the memory's maximum refusing to grow counts. */
describe('watchGrowth', () => {
  it('counts refusals at the maximum, and nothing else', () => {
    const watched = watchGrowth(new wasmApi.Memory({ initial: 1, maximum: 4 }));
    const memory = watched.memory as unknown as { grow(pages: number): number; buffer: ArrayBuffer };
    assert.equal(memory.grow(2), 1, 'a grow within the maximum works as before');
    assert.equal(memory.buffer.byteLength, 3 * 65_536);
    assert.equal(watched.refusals(), 0);
    assert.throws(() => memory.grow(2), RangeError, 'past the maximum the engine still sees the refusal');
    assert.equal(watched.refusals(), 1);
    assert.equal(memory.grow(1), 3);
    assert.equal(watched.refusals(), 1, 'a later successful grow does not erase the evidence');
    assert.ok(watched.memory instanceof (globalThis as unknown as { WebAssembly: { Memory: new (...a: never[]) => object } }).WebAssembly.Memory, 'still a real Memory an instance can import');
  });
});
