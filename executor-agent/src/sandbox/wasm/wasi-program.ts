import type wabtInit from 'wabt';
import type { SourceFile } from '@crucible/storage/domain';
import { InvalidProgramError } from '../sandbox.js';
import { limitModuleMemory, pagesForMegabytes } from './memory-limit.js';
import { limitModuleTables } from './table-limit.js';
import { wasmApi } from './wasm-api.js';
import { hasWasmMagic, readExports, readImports } from './wasm-binary.js';

export type Wabt = Awaited<ReturnType<typeof wabtInit>>;

/**
 * The only import namespaces a program may use. Plain WASI preview 1 is the language offered;
 * refusing WASIX namespaces keeps threads, sockets and process spawning out of reach even if
 * the runtime would provide them.
 */
const ALLOWED_IMPORT_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);

/** Post-MVP features Node's engine validates, so text and binary programs accept the same set. */
const WAT_FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  reference_types: true,
  simd: true,
};

/**
 * Turns the submitted file into a module ready to run: decodes base64 or compiles WebAssembly text,
 * validates it, checks its imports and bounds its memory at `memoryMb`. Every problem with the
 * program is an InvalidProgramError whose message is meant for the user.
 */
export function prepareWasiModule(file: SourceFile, memoryMb: number, wabt: Wabt): Uint8Array {
  const raw = file.encoding === 'base64' ? Buffer.from(file.content, 'base64') : Buffer.from(file.content, 'utf8');
  let module: Uint8Array;
  if (hasWasmMagic(raw)) {
    module = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } else if (file.name.endsWith('.wasm')) {
    throw new InvalidProgramError(`${file.name} is not a WebAssembly binary (it lacks the \\0asm header)`);
  } else {
    module = compileWat(file.name, raw.toString('utf8'), wabt);
  }
  validate(module);
  for (const imp of readImports(module)) {
    if (!ALLOWED_IMPORT_MODULES.has(imp.module)) {
      throw new InvalidProgramError(
        `import ${imp.module}.${imp.name} is not available: only wasi_snapshot_preview1 may be imported`,
      );
    }
    if (imp.kind === 'memory') {
      throw new InvalidProgramError('modules that import their memory are not supported; define and export it instead');
    }
    if (imp.kind !== 'function') {
      throw new InvalidProgramError(`import ${imp.module}.${imp.name} is a ${imp.kind}; WASI provides only functions`);
    }
  }
  // WASI requires both; checked here because the runtime reports a missing memory by failing
  // its worker pool rather than the program.
  const exports = readExports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new InvalidProgramError('a WASI program must export a function named _start');
  }
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    throw new InvalidProgramError('a WASI program must export its memory as "memory"');
  }
  // Tables sit outside linear memory, so they get a bound of their own.
  return limitModuleTables(limitModuleMemory(module, pagesForMegabytes(memoryMb)));
}

function compileWat(filename: string, text: string, wabt: Wabt): Uint8Array {
  let parsed: ReturnType<Wabt['parseWat']> | undefined;
  try {
    parsed = wabt.parseWat(filename, text, WAT_FEATURES);
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } catch (error) {
    // wabt reports "parseWat failed:\n<file>:<line>:<col>: error: ..." with a caret excerpt; keep the detail.
    const detail = error instanceof Error ? error.message.replace(/^\w+ failed:\n/, '') : String(error);
    throw new InvalidProgramError(`invalid WebAssembly text:\n${detail.trimEnd()}`);
  } finally {
    parsed?.destroy();
  }
}

function validate(module: Uint8Array): void {
  if (wasmApi.validate(module)) return;
  try {
    // Compiling only to obtain the engine's explanation of what is wrong.
    new wasmApi.Module(module);
  } catch (error) {
    throw new InvalidProgramError(`invalid WebAssembly module: ${error instanceof Error ? error.message : String(error)}`);
  }
  throw new InvalidProgramError('invalid WebAssembly module');
}
