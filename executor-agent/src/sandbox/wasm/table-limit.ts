import { InvalidProgramError } from '../sandbox.js';
import { Reader, SECTION_TABLE, encodeU32, readImports, readSections, readValueType, replaceSection } from './wasm-binary.js';

/**
 * Most elements a table may have. Tables live outside linear memory, so the memory limit does not
 * bound them: V8 alone would let a module declare ten million elements (~80 MB) up front, or grow
 * to that with `table.grow`. 65,536 references (512 KiB) is far more than any compiled program's
 * function table needs.
 */
export const MAX_TABLE_ELEMENTS = 65_536;

/**
 * Returns a copy of `module` whose tables can never exceed `maxElements`: each table's maximum
 * becomes min(declared, maxElements) (and is added when absent, so `table.grow` fails past it). A
 * module is refused (InvalidProgramError) when it imports a table or starts one above the cap.
 */
export function limitModuleTables(module: Uint8Array, maxElements: number = MAX_TABLE_ELEMENTS): Uint8Array {
  if (readImports(module).some((i) => i.kind === 'table')) {
    throw new InvalidProgramError('modules that import a table are not supported; define it instead');
  }
  const section = readSections(module).find((s) => s.id === SECTION_TABLE);
  if (!section) return module;

  const reader = new Reader(module, section.start, section.end);
  const payload: number[] = [];
  const count = reader.u32();
  payload.push(...encodeU32(count));
  for (let i = 0; i < count; i++) {
    const typeStart = reader.pos;
    // 0x40 0x00 introduces a table with an initialiser expression (GC proposal): not supported.
    if (module[typeStart] === 0x40) throw new InvalidProgramError('tables with initialiser expressions are not supported');
    readValueType(reader);
    const elementType = [...module.subarray(typeStart, reader.pos)];
    const { flags, min, max } = reader.limits();
    if (flags & 0x04) throw new InvalidProgramError('64-bit tables are not supported');
    if (min > maxElements) {
      throw new InvalidProgramError(`the module's table starts with ${min} elements, above the limit of ${maxElements}`);
    }
    const bounded = max === undefined ? maxElements : Math.min(max, maxElements);
    payload.push(...elementType, flags | 0x01, ...encodeU32(min), ...encodeU32(bounded));
  }
  if (!reader.done) throw new InvalidProgramError('malformed WebAssembly module: trailing bytes in the table section');
  return replaceSection(module, section, payload);
}
