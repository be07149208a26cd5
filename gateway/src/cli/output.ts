import type { Evaluation } from './client.js';

export interface OutStream {
  /** Text, or (a program's output, exactly as it wrote it) bytes. */
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Left-aligned columns separated by two spaces; the header first. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Milliseconds for people: `12 ms`, `1.50 s`, `12.3 s`; `-` when unknown. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export const dash = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : String(v));

/** The columns `list` and `batch` share for one evaluation. */
export function evaluationCells(e: Evaluation): { status: string; outcome: string; exit: string; duration: string } {
  return { status: e.status, outcome: dash(e.outcome), exit: dash(e.exitCode ?? e.signal), duration: duration(e.durationMs) };
}

export const jsonLine = (value: unknown) => `${JSON.stringify(value)}\n`;

/**
 * Progress on stderr: a redrawn bar on a terminal; otherwise a plain line at most once a second
 * (and at the end), so logs of a long batch stay readable.
 */
export class Progress {
  private done = 0;
  private bad = 0;
  private lastLine = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly out: OutStream,
  ) {}

  /** Counts one finished evaluation; `ok` is false for anything but success. */
  tick(ok: boolean): void {
    this.done++;
    if (!ok) this.bad++;
    this.render();
  }

  /** Ends the bar's line (a terminal), or prints the final count (a log). */
  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
    else if (this.lastLine !== -1) this.out.write(`${this.text()}\n`);
  }

  private render(): void {
    if (this.out.isTTY) {
      const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
      const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
      this.out.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.text()}`);
      return;
    }
    const now = Date.now();
    if (this.done === this.total) {
      this.out.write(`${this.text()}\n`);
      this.lastLine = -1;
    } else if (now - this.lastLine >= 1000) {
      this.out.write(`${this.text()}\n`);
      this.lastLine = now;
    }
  }

  private text(): string {
    const secs = ((Date.now() - this.started) / 1000).toFixed(0);
    return `${this.done}/${this.total} finished${this.bad ? `, ${this.bad} not successful` : ''} (${secs} s)`;
  }
}
