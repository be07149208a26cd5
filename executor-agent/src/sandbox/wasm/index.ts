export { WasmSandbox, type WasmSandboxOptions } from './wasm-sandbox.js';
