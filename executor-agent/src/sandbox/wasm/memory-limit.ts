import { InvalidProgramError } from '../sandbox.js';
import { Reader, SECTION_MEMORY, encodeU32, readImports, readSections, replaceSection } from './wasm-binary.js';

/** Bytes in one WebAssembly page. */
export const WASM_PAGE_BYTES = 65_536;

/** The number of whole pages that fit in `memoryMb` MiB. */
export function pagesForMegabytes(memoryMb: number): number {
  return Math.floor((memoryMb * 1024 * 1024) / WASM_PAGE_BYTES);
}

/**
 * Returns a copy of `module` in which no memory can grow past `maxPages`.
 *
 * @wasmer/sdk has no memory option, but the engine honours a memory's declared maximum, so the
 * limit is written into the module itself: max becomes min(declared max, maxPages), and a memory
 * that declares none gets `maxPages`. A module is refused (InvalidProgramError) when it imports a
 * memory (its size would be decided outside the module) or asks for more than `maxPages` at start.
 */
export function limitModuleMemory(module: Uint8Array, maxPages: number): Uint8Array {
  if (readImports(module).some((i) => i.kind === 'memory')) {
    throw new InvalidProgramError('modules that import their memory are not supported; define and export it instead');
  }
  const section = readSections(module).find((s) => s.id === SECTION_MEMORY);
  if (!section) return module;

  const reader = new Reader(module, section.start, section.end);
  const payload: number[] = [];
  const count = reader.u32();
  payload.push(...encodeU32(count));
  for (let i = 0; i < count; i++) {
    const { flags, min, max } = reader.limits();
    if (min > maxPages) {
      throw new InvalidProgramError(
        `the module's memory starts at ${describePages(min)}, above the memory limit of ${describePages(maxPages)}`,
      );
    }
    const bounded = max === undefined ? maxPages : Math.min(max, maxPages);
    payload.push(flags | 0x01, ...encodeU32(min), ...encodeU32(bounded));
  }
  if (!reader.done) throw new InvalidProgramError('malformed WebAssembly module: trailing bytes in the memory section');

  return replaceSection(module, section, payload);
}

function describePages(pages: number): string {
  const mib = (pages * WASM_PAGE_BYTES) / (1024 * 1024);
  return `${pages} pages (${Number.isInteger(mib) ? mib : mib.toFixed(2)} MiB)`;
}
