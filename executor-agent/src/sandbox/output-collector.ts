import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './sandbox.js';

/**
 * Collects one stream's output up to a byte cap, forwarding what is kept to a listener. Bytes past
 * the cap are dropped and `truncated` is set; a multi-byte character is never split at the cap.
 */
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  // Chunks from an engine may split a UTF-8 character; the decoder carries the partial bytes over.
  private readonly decoder = new StringDecoder('utf8');
  truncated = false;

  constructor(
    private readonly stream: OutputStream,
    private readonly capBytes: number,
    private readonly listener?: (stream: OutputStream, chunk: string) => void,
  ) {}

  /** Adds bytes; returns false once the cap has been exceeded. */
  push(data: Buffer | string): boolean {
    if (this.truncated) return false;
    let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const room = this.capBytes - this.size;
    if (buf.length > room) {
      buf = buf.subarray(0, utf8Boundary(buf, room));
      this.truncated = true;
    }
    if (buf.length > 0) {
      this.chunks.push(buf);
      this.size += buf.length;
      const text = this.decoder.write(buf);
      if (text) this.listener?.(this.stream, text);
    }
    return !this.truncated;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The largest length ≤ `max` that does not end inside a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, max: number): number {
  let end = Math.max(0, max);
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  return end;
}
