import type { WasmMemory } from './wasm-api.js';

/** A memory whose refusals to grow past its maximum are counted. */
export interface WatchedMemory {
  memory: WasmMemory;
  /** How many times the memory's hard maximum refused to grow it. */
  refusals(): number;
}

interface Growable extends WasmMemory {
  grow(pages: number): number;
  readonly maximum?: number;
}

/**
 * Platform evidence that a program ran into its memory limit: the engine's heap asked the
 * WebAssembly memory to grow and the memory's maximum (set by the platform) refused. Nothing the
 * program writes can produce this count; a thrown error that merely looks like the engine's
 * out-of-memory error can (issue 12), so the verdict `memory_limit` is decided from this alone.
 *
 * Works by giving `memory` an own `grow` that counts the RangeError the engine raises at the
 * maximum: emscripten's heap resize calls `wasmMemory.grow` on the memory it was handed. It asks
 * for headroom first (up to a fifth more than it needs) and then for less, so a refusal can be
 * followed by a smaller grow that works: the program was then within a fifth of its limit, which
 * is still the platform's observation, never the program's claim.
 */
export function watchGrowth(memory: WasmMemory): WatchedMemory {
  const growable = memory as Growable;
  const grow = growable.grow.bind(growable);
  let refused = 0;
  Object.defineProperty(growable, 'grow', {
    value: (pages: number): number => {
      try {
        return grow(pages);
      } catch (error) {
        refused++;
        throw error;
      }
    },
  });
  return { memory, refusals: () => refused };
}
