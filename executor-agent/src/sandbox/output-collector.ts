import type { RunResult } from '@crucible/storage/domain';
import type { OutputStream } from './sandbox.js';

/** The output fields of a {@link RunResult}. */
export type OutputFields = Pick<RunResult, 'stdout' | 'stderr' | 'stdoutBase64' | 'stderrBase64' | 'stdoutTruncated' | 'stderrTruncated'>;

/**
 * Collects one stream's output up to a byte cap, forwarding what is kept to a listener. Output is
 * data, whatever its bytes (issue 12): the exact bytes are kept and forwarded, NUL and invalid
 * UTF-8 included; text is derived from them later, in one place (storage's decodeOutput).
 *
 * Bytes past the cap are dropped and `truncated` is set; a multi-byte character is never split
 * at the cap. Chunks from an engine may split a character too, so the listener is not handed the
 * unfinished start of one until its rest arrives (or the output ends): each forwarded chunk then
 * decodes to the same text the whole does.
 */
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Kept bytes not forwarded yet: the possible start of a character split across chunks. */
  private held: Buffer = Buffer.alloc(0);
  truncated = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly capBytes: number,
    private readonly listener?: (stream: OutputStream, chunk: Buffer) => void,
  ) {}

  /** Adds bytes; returns false once the cap has been exceeded. */
  push(data: Uint8Array | string): boolean {
    if (this.truncated) return false;
    let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const room = this.capBytes - this.size;
    if (buf.length > room) {
      buf = buf.subarray(0, utf8Boundary(buf, room));
      this.truncated = true;
    }
    if (buf.length > 0) {
      // A copy: the engine may reuse the memory of the chunk it handed over.
      const kept = Buffer.from(buf);
      this.chunks.push(kept);
      this.size += kept.length;
      const pending = this.held.length > 0 ? Buffer.concat([this.held, kept]) : kept;
      const cut = this.truncated ? pending.length : pending.length - unfinishedTail(pending);
      this.held = pending.subarray(cut);
      if (cut > 0) this.listener?.(this.stream, pending.subarray(0, cut));
    }
    if (this.truncated) this.flush();
    return !this.truncated;
  }

  /** Forwards whatever is still held: the output has ended. */
  flush(): void {
    const held = this.held;
    this.held = Buffer.alloc(0);
    if (held.length > 0) this.listener?.(this.stream, held);
  }

  /** The exact bytes kept. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }

  /** A run's output fields from its two collectors; forwards what they still hold first. */
  static fields(stdout: OutputCollector, stderr: OutputCollector): OutputFields {
    stdout.flush();
    stderr.flush();
    const out = stdout.bytes();
    const err = stderr.bytes();
    return {
      stdout: out.toString('utf8'),
      stderr: err.toString('utf8'),
      stdoutBase64: out.toString('base64'),
      stderrBase64: err.toString('base64'),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
    };
  }
}

/** The largest length ≤ `max` that does not end inside a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, max: number): number {
  let end = Math.max(0, max);
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  return end;
}

/**
 * How many bytes at the end of `buf` are the start of a UTF-8 sequence still missing bytes
 * (0 to 3). Anything else, valid or not, is complete as far as decoding is concerned.
 */
function unfinishedTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needs = byte >= 0xf5 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1;
    return needs > back ? back : 0;
  }
  return 0;
}
