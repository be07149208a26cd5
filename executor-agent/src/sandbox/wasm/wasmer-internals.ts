import { readFile } from 'node:fs/promises';
import { wasmApi, type WasmMemory } from './wasm-api.js';

/**
 * Every use of @wasmer/sdk internals (files beside its public entry) is here, so an SDK upgrade has
 * one place to check. Each is verified when loaded and fails loudly, so the language is reported
 * unavailable rather than run without the protection.
 */

/** How far the runtime's own heap may grow in total before its worker is refused more. */
const CORE_MAX_PAGES = 16_384; // 1 GiB

interface WasmBindgenModule {
  default(options: { module_or_path: Uint8Array; memory: WasmMemory }): Promise<{ memory?: unknown }>;
}

interface WorkerAdapterModule {
  nodeWorkerStats(): { workerFailures: number };
}

const sdkFile = (path: string) => new URL(path, import.meta.resolve('@wasmer/sdk/node'));

/**
 * Initialises the SDK's runtime (Wasmer compiled to WebAssembly) with a memory owned here, and
 * returns it with the runtime's bytes.
 *
 * Why: a guest's linear memory is bounded by its module (see memory-limit.ts), but what the guest
 * asks the runtime to keep (files written to the in-memory filesystem, pipe buffers) lives in the
 * runtime's own heap. Left alone, one program writing a file in a loop grew it past 2 GiB until
 * the runtime panicked. Owning the memory gives a hard maximum and a size to watch per run.
 *
 * This relies on the SDK initialising its wasm-bindgen module only once: its own later
 * initialisation then finds the runtime ready and keeps this memory.
 */
export async function initWasmerCore(): Promise<{ memory: WasmMemory; wasm: Uint8Array }> {
  const bindings = (await import(sdkFile('../pkg/wasmer_sdk_js.js').href)) as WasmBindgenModule;
  const wasm = await readFile(sdkFile('../pkg/wasmer_sdk_js_bg.wasm'));
  const memory = new wasmApi.Memory({ initial: 32, maximum: CORE_MAX_PAGES, shared: true });
  const exports = await bindings.default({ module_or_path: wasm, memory });
  if (exports.memory !== memory) throw new Error('@wasmer/sdk was initialised before its memory could be bounded');
  return { memory, wasm };
}

/**
 * Returns a counter of the SDK's failed worker threads. After one fails, the SDK stops its whole
 * pool and a process may never report its exit, so the engine watches this to give up at once.
 */
export async function loadWorkerFailureCounter(): Promise<() => number> {
  const adapter = (await import(sdkFile('./node-worker-adapter.js').href)) as Partial<WorkerAdapterModule>;
  const stats = adapter.nodeWorkerStats;
  if (typeof stats !== 'function' || typeof stats().workerFailures !== 'number') {
    throw new Error('@wasmer/sdk no longer reports worker failures where expected');
  }
  return () => stats().workerFailures;
}
