/**
 * The parts of the WebAssembly JavaScript API this sandbox uses. TypeScript declares the API only
 * in its DOM and web-worker libraries, which this Node project does not load; typing the few
 * members used here, instead of declaring a global, cannot clash with a full declaration later.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

export interface WasmMemoryDescriptor {
  initial: number;
  maximum?: number;
  shared?: boolean;
}

/** A compiled module; opaque here. */
export type WasmModule = object;

interface WasmApi {
  Memory: new (descriptor: WasmMemoryDescriptor) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  validate(bytes: Uint8Array): boolean;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
