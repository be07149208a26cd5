import type { Redis } from 'ioredis';
import type { RunResult } from '@crucible/storage/domain';
import { encodeReport, type AgentReport, type RedisKeys } from './protocol/index.js';
import type { OutputStream } from './sandbox/sandbox.js';

/** Bound on the reports stream so a scheduler outage cannot grow Redis without limit. */
const REPORTS_MAXLEN = 200_000;
/** Output is sent in batches: one stream entry per flush, not per write() of the program. */
const OUTPUT_FLUSH_MS = 40;
const OUTPUT_FLUSH_BYTES = 32 * 1024;

/**
 * Sends one task's reports to the scheduler, strictly in order. Writes are chained so callers
 * from sandbox callbacks (which cannot await) still produce an ordered stream.
 */
export class Reporter {
  private tail: Promise<unknown> = Promise.resolve();
  private pending: { stream: OutputStream; chunks: Uint8Array[]; bytes: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly agentId: string,
    private readonly evaluationId: string,
  ) {}

  status(status: 'provisioning' | 'running', sandboxStartMs?: number, attempt?: number): Promise<void> {
    this.flushOutput();
    return this.send({ type: 'status', status, sandboxStartMs, attempt, evaluationId: this.evaluationId, agentId: this.agentId });
  }

  /** Buffers output bytes; consecutive chunks of the same stream merge into one report. */
  output(stream: OutputStream, data: Uint8Array): void {
    if (this.pending && this.pending.stream !== stream) this.flushOutput();
    this.pending ??= { stream, chunks: [], bytes: 0 };
    this.pending.chunks.push(data);
    this.pending.bytes += data.byteLength;
    if (this.pending.bytes >= OUTPUT_FLUSH_BYTES) this.flushOutput();
    else this.timer ??= setTimeout(() => this.flushOutput(), OUTPUT_FLUSH_MS);
  }

  result(result: RunResult): Promise<void> {
    this.flushOutput();
    return this.send({ type: 'result', result, evaluationId: this.evaluationId, agentId: this.agentId });
  }

  fault(error: string, retrying: boolean): Promise<void> {
    this.flushOutput();
    return this.send({ type: 'fault', error, retrying, evaluationId: this.evaluationId, agentId: this.agentId });
  }

  private flushOutput(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    // Exact bytes, as base64: a chunk may hold anything a program wrote (NUL, invalid UTF-8).
    const base64 = Buffer.concat(pending.chunks).toString('base64');
    void this.send({ type: 'output', stream: pending.stream, base64, evaluationId: this.evaluationId, agentId: this.agentId });
  }

  private send(report: AgentReport): Promise<void> {
    const write = () => this.redis.xadd(this.keys.reports, 'MAXLEN', '~', REPORTS_MAXLEN, '*', ...encodeReport(report));
    const next = this.tail.then(write, write);
    this.tail = next;
    return next.then(() => undefined);
  }
}
