import type { OutputStream } from '../sandbox.js';

const HEADER = 8;

/**
 * Splits Docker's multiplexed attach stream (no TTY) into stdout and stderr. Each frame is an
 * 8-byte header — stream type (1 stdout, 2 stderr), three zero bytes, payload length as uint32 BE —
 * and the payload. Payload is forwarded as it arrives, so a large frame is never buffered whole.
 */
export class DockerStreamDemuxer {
  private readonly header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private stream: OutputStream = 'stdout';
  private remaining = 0;

  constructor(private readonly onData: (stream: OutputStream, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - off);
        this.remaining -= take;
        this.onData(this.stream, chunk.subarray(off, off + take));
        off += take;
        continue;
      }
      const take = Math.min(HEADER - this.headerFill, chunk.length - off);
      chunk.copy(this.header, this.headerFill, off, off + take);
      this.headerFill += take;
      off += take;
      if (this.headerFill === HEADER) {
        this.headerFill = 0;
        // Anything but stdout (stderr, or the engine's own "systemerr" 3) is reported as stderr.
        this.stream = this.header[0] === 1 ? 'stdout' : 'stderr';
        this.remaining = this.header.readUInt32BE(4);
      }
    }
  }

  /** True when the stream ended between frames, as it should. */
  get complete(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }
}
