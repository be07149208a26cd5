import { InvalidProgramError } from '../sandbox.js';

/**
 * Just enough of the WebAssembly binary format to inspect imports and rewrite memory limits.
 * Everything else in a module is copied byte for byte, so this never needs to understand code.
 */

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
const WASM_VERSION = [0x01, 0x00, 0x00, 0x00] as const;

export const SECTION_IMPORT = 2;
export const SECTION_TABLE = 4;
export const SECTION_MEMORY = 5;
export const SECTION_EXPORT = 7;

/** A top-level section; `start`/`end` delimit its payload within the module. */
export interface Section {
  id: number;
  /** Offset of the section id byte (where the whole section, header included, begins). */
  headerStart: number;
  start: number;
  end: number;
}

/** Limits as encoded for memories and tables (flags, min, optional max). */
export interface ResizableLimits {
  flags: number;
  min: number;
  max?: number;
}

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const EXTERN_KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export interface Import {
  module: string;
  name: string;
  kind: ExternKind;
}

export interface Export {
  name: string;
  kind: ExternKind;
}

export function hasWasmMagic(bytes: Uint8Array): boolean {
  return WASM_MAGIC.every((b, i) => bytes[i] === b);
}

/** A forward-only reader; every overrun is a malformed module, reported as the user's error. */
export class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos = 0,
    private readonly limit = bytes.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.limit;
  }

  u8(): number {
    if (this.pos >= this.limit) throw malformed('unexpected end of section');
    return this.bytes[this.pos++]!;
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.u8();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffff_ffff) throw malformed('integer too large');
        return result;
      }
    }
    throw malformed('integer representation too long');
  }

  /** Signed LEB128 up to 33 bits (heap types); only its extent matters here. */
  s33(): void {
    for (let i = 0; i < 5; i++) if ((this.u8() & 0x80) === 0) return;
    throw malformed('integer representation too long');
  }

  skip(n: number): void {
    if (n > this.limit - this.pos) throw malformed('unexpected end of section');
    this.pos += n;
  }

  name(): string {
    const length = this.u32();
    const start = this.pos;
    this.skip(length);
    return Buffer.from(this.bytes.subarray(start, start + length)).toString('utf8');
  }

  limits(): ResizableLimits {
    const flags = this.u8();
    // Bit 2 marks 64-bit memories, bit 3 custom page sizes: neither can be bounded in 64 KiB pages here.
    if (flags & ~0x03) throw new InvalidProgramError('64-bit memories and custom page sizes are not supported');
    const min = this.u32();
    return flags & 0x01 ? { flags, min, max: this.u32() } : { flags, min };
  }
}

/** Splits a module into sections after checking its header. */
export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || !hasWasmMagic(bytes) || !WASM_VERSION.every((b, i) => bytes[4 + i] === b)) {
    throw malformed('not a WebAssembly 1.0 binary module');
  }
  const sections: Section[] = [];
  const reader = new Reader(bytes, 8);
  while (!reader.done) {
    const headerStart = reader.pos;
    const id = reader.u8();
    const size = reader.u32();
    const start = reader.pos;
    reader.skip(size);
    sections.push({ id, headerStart, start, end: start + size });
  }
  return sections;
}

/** The module's imports, in order. */
export function readImports(bytes: Uint8Array): Import[] {
  const section = readSections(bytes).find((s) => s.id === SECTION_IMPORT);
  if (!section) return [];
  const reader = new Reader(bytes, section.start, section.end);
  const imports: Import[] = [];
  for (let count = reader.u32(); count > 0; count--) {
    const module = reader.name();
    const name = reader.name();
    imports.push({ module, name, kind: readImportDescriptor(reader) });
  }
  return imports;
}

/** The module's exports, in order. */
export function readExports(bytes: Uint8Array): Export[] {
  const section = readSections(bytes).find((s) => s.id === SECTION_EXPORT);
  if (!section) return [];
  const reader = new Reader(bytes, section.start, section.end);
  const exports: Export[] = [];
  for (let count = reader.u32(); count > 0; count--) {
    const name = reader.name();
    const kind = EXTERN_KINDS[reader.u8()];
    if (!kind) throw malformed('unknown export kind');
    reader.u32();
    exports.push({ name, kind });
  }
  return exports;
}

function readImportDescriptor(reader: Reader): ExternKind {
  const kind = reader.u8();
  switch (kind) {
    case 0x00:
      reader.u32();
      return 'function';
    case 0x01:
      readValueType(reader);
      reader.limits();
      return 'table';
    case 0x02:
      reader.limits();
      return 'memory';
    case 0x03:
      readValueType(reader);
      reader.u8();
      return 'global';
    case 0x04:
      reader.u8();
      reader.u32();
      return 'tag';
    default:
      throw malformed(`unknown import kind 0x${kind.toString(16)}`);
  }
}

/** Reads a value (or reference) type, as in a table's element type. */
export function readValueType(reader: Reader): void {
  const type = reader.u8();
  // (ref null? heaptype) carries a heap type after the prefix byte.
  if (type === 0x63 || type === 0x64) reader.s33();
}

/** A copy of `module` with `section`'s payload replaced by `payload` (its header re-encoded). */
export function replaceSection(module: Uint8Array, section: Section, payload: readonly number[]): Uint8Array {
  const header = [section.id, ...encodeU32(payload.length)];
  const out = new Uint8Array(module.length - (section.end - section.headerStart) + header.length + payload.length);
  out.set(module.subarray(0, section.headerStart), 0);
  let at = section.headerStart;
  out.set(header, at);
  at += header.length;
  out.set(payload, at);
  at += payload.length;
  out.set(module.subarray(section.end), at);
  return out;
}

/** Unsigned LEB128 encoding, canonical (shortest) form. */
export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return out;
}

function malformed(detail: string): InvalidProgramError {
  return new InvalidProgramError(`malformed WebAssembly module: ${detail}`);
}
