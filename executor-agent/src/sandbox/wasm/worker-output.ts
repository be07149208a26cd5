import type { OutputStream } from '../sandbox.js';
import type { FromWorker } from './worker-protocol.js';

const FLUSH_BYTES = 16 * 1024;
const FLUSH_INTERVAL_MS = 10;

/**
 * A worker's side of output: batches writes into few messages and forwards at most one byte past
 * the cap per stream. The parent's OutputCollector does the exact, UTF-8-safe truncation; the
 * extra byte is how it learns the cap was exceeded, and sending no more keeps a flood off the
 * message channel.
 */
export class WorkerOutput {
  private readonly sent = { stdout: 0, stderr: 0 };
  private readonly pending: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
  private pendingBytes = 0;
  private lastFlush = Date.now();
  overflowed = false;

  constructor(
    private readonly post: (message: FromWorker, transfer?: ArrayBuffer[]) => void,
    private readonly capBytes: number,
  ) {}

  /** Bytes still allowed on `stream` before the cap. */
  room(stream: OutputStream): number {
    return Math.max(0, this.capBytes - this.sent[stream]);
  }

  /** Queues output; returns false once the stream has gone past its cap. */
  write(stream: OutputStream, data: string | Uint8Array): boolean {
    if (this.sent[stream] > this.capBytes) return false;
    let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const allowed = this.capBytes - this.sent[stream] + 1;
    if (buf.length > allowed) buf = buf.subarray(0, allowed);
    this.sent[stream] += buf.length;
    this.pending[stream].push(buf);
    this.pendingBytes += buf.length;
    if (this.sent[stream] > this.capBytes) this.overflowed = true;
    if (this.pendingBytes >= FLUSH_BYTES || this.overflowed) this.flush();
    return !this.overflowed;
  }

  /** Flushes if output has waited long enough; cheap enough to call from an interrupt handler. */
  tick(): void {
    if (this.pendingBytes > 0 && Date.now() - this.lastFlush >= FLUSH_INTERVAL_MS) this.flush();
  }

  flush(): void {
    this.lastFlush = Date.now();
    if (this.pendingBytes === 0) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      const chunks = this.pending[stream];
      if (chunks.length === 0) continue;
      // A fresh copy owns its ArrayBuffer, so it can be transferred instead of cloned.
      const data = new Uint8Array(Buffer.concat(chunks));
      this.pending[stream] = [];
      this.post({ type: 'output', stream, data }, [data.buffer]);
    }
    this.pendingBytes = 0;
  }
}
