import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import wabtInit from 'wabt';
import { InvalidProgramError } from '../src/sandbox/sandbox.js';
import { limitModuleMemory, pagesForMegabytes } from '../src/sandbox/wasm/memory-limit.js';

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

describe('limitModuleMemory', () => {
  let wabt: Wabt;
  before(async () => {
    wabt = await wabtInit();
  });

  /** Compiles text; `canonical: false` makes wabt write padded 5-byte LEBs, which readers must accept. */
  const compile = (text: string, canonical = true) => {
    const parsed = wabt.parseWat('t.wat', text, { memory64: true });
    try {
      return parsed.toBinary({ canonicalize_lebs: canonical }).buffer;
    } finally {
      parsed.destroy();
    }
  };
  /** The module's memory declarations as wabt prints them, e.g. `(memory (;0;) 1 256)`. */
  const memories = (bytes: Uint8Array) => {
    const read = wabt.readWasm(bytes, { readDebugNames: false });
    try {
      return read.toText({}).split('\n').filter((l) => l.includes('(memory')).map((l) => l.trim());
    } finally {
      read.destroy();
    }
  };
  const module = (memory: string) => `(module ${memory} (func (export "_start") (drop (i32.const 1))) (data (i32.const 0) "kept"))`;

  it('converts megabytes to whole 64 KiB pages', () => {
    assert.equal(pagesForMegabytes(16), 256);
    assert.equal(pagesForMegabytes(0.1), 1);
  });

  it('gives a memory without a maximum the limit as its maximum', () => {
    assert.deepEqual(memories(limitModuleMemory(compile(module('(memory 1)')), 256)), ['(memory (;0;) 1 256)']);
  });

  it('lowers a larger maximum and keeps a smaller one', () => {
    assert.deepEqual(memories(limitModuleMemory(compile(module('(memory 2 65536)')), 256)), ['(memory (;0;) 2 256)']);
    assert.deepEqual(memories(limitModuleMemory(compile(module('(memory 2 10)')), 256)), ['(memory (;0;) 2 10)']);
  });

  it('keeps every other section byte for byte', () => {
    for (const canonical of [true, false]) {
      const original = compile(module('(memory 1)'), canonical);
      const bounded = limitModuleMemory(original, 300);
      const text = (bytes: Uint8Array) => {
        const read = wabt.readWasm(bytes, { readDebugNames: false });
        try {
          return read.toText({}).split('\n').filter((l) => !l.includes('(memory')).join('\n');
        } finally {
          read.destroy();
        }
      };
      assert.equal(text(bounded), text(original));
      assert.ok(bounded.length <= original.length + 5);
    }
  });

  it('leaves a module without memory unchanged', () => {
    const original = compile('(module (func (export "_start")))');
    assert.equal(limitModuleMemory(original, 16), original);
  });

  it('refuses a memory that starts above the limit', () => {
    assert.throws(() => limitModuleMemory(compile(module('(memory 257)')), 256), (e: unknown) => {
      assert.ok(e instanceof InvalidProgramError);
      assert.match(e.message, /starts at 257 pages .* above the memory limit of 256 pages \(16 MiB\)/);
      return true;
    });
  });

  it('refuses imported and 64-bit memories', () => {
    assert.throws(() => limitModuleMemory(compile('(module (import "env" "memory" (memory 1)))'), 256), /import their memory/);
    assert.throws(() => limitModuleMemory(compile('(module (memory i64 1))'), 256), /64-bit memories/);
  });

  it('refuses malformed modules with InvalidProgramError', () => {
    const valid = compile(module('(memory 1)'));
    for (const broken of [valid.subarray(0, 12), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 9, 1])]) {
      assert.throws(() => limitModuleMemory(broken, 256), InvalidProgramError);
    }
  });
});
