import assert from 'node:assert/strict';
import { describe, it, before, after } from 'node:test';
import { DEFAULT_LIMITS, type Limits } from '@crucible/storage/domain';
import type { RunRequest, Sandbox } from '../src/sandbox/sandbox.js';

/** Programs, per language, that each conformance case runs. Each sandbox supplies its own. */
export interface ConformancePrograms {
  language: string;
  /** Prints `42` and a newline to stdout, exits 0. */
  hello: string;
  /** Echoes stdin to stdout unchanged. */
  echoStdin: string;
  /** Writes `oops` to stderr and exits with status 3. */
  exitThree: string;
  /** Never ends on its own. */
  spin: string;
  /** Prints `42` and a newline to stdout (flushed), then never ends on its own. */
  printThenSpin: string;
  /** Prints far more than 4 KiB to stdout. */
  flood: string;
  /** Writes exactly `a`, NUL, `b`, ESC `[0m`, CR, LF to stdout (9 bytes). */
  controls: string;
}

/**
 * The behaviour every Sandbox implementation must share. Call inside a test file with a factory
 * for the implementation under test.
 */
export function sandboxConformance(name: string, make: () => Promise<Sandbox>, programs: ConformancePrograms): void {
  describe(`Sandbox conformance: ${name}`, () => {
    let sandbox: Sandbox;
    before(async () => {
      sandbox = await make();
      await sandbox.init();
    });
    after(async () => {
      await sandbox?.[Symbol.asyncDispose]();
    });

    const run = (code: string, extra: Partial<RunRequest> = {}, limits: Partial<Limits> = {}) =>
      sandbox.run({
        evaluationId: `conf-${Math.random().toString(16).slice(2)}`,
        language: programs.language,
        files: [{ name: 'main', content: code, encoding: 'utf8' }],
        stdin: '',
        args: [],
        limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
        ...extra,
      });

    it('reports the language as available', () => {
      const lang = sandbox.languages().find((l) => l.id === programs.language);
      assert.ok(lang, `language ${programs.language} listed`);
      assert.equal(lang.available, true, lang.reason);
    });

    it('runs a program to success and captures stdout', async () => {
      const r = await run(programs.hello);
      assert.equal(r.outcome, 'success', r.stderr);
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout, '42\n');
      assert.equal(r.stdoutTruncated, false);
      // The sandbox's own measure of the run: a whole number of ms, inside the 5 s deadline.
      assert.ok(Number.isInteger(r.durationMs) && r.durationMs >= 0 && r.durationMs < 5000, `durationMs ${r.durationMs}`);
    });

    it('delivers stdin', async () => {
      const r = await run(programs.echoStdin, { stdin: 'hello\nworld\n' });
      assert.equal(r.outcome, 'success', r.stderr);
      assert.equal(r.stdout, 'hello\nworld\n');
    });

    it('reports a non-zero exit as error, keeping stderr', async () => {
      const r = await run(programs.exitThree);
      assert.equal(r.outcome, 'error');
      assert.equal(r.exitCode, 3);
      assert.match(r.stderr, /oops/);
    });

    it('ends a program that runs past its deadline as timeout', async () => {
      const r = await run(programs.spin, {}, { timeoutMs: 1000 });
      assert.equal(r.outcome, 'timeout');
      // Judged by the sandbox's durationMs, not the test's clock: not before the deadline (less
      // timer granularity) and not long after it.
      assert.ok(r.durationMs >= 900 && r.durationMs <= 1000 + 5000, `timed out after ${r.durationMs} ms, deadline 1000 ms`);
    });

    it('caps output and flags truncation', async () => {
      const r = await run(programs.flood, {}, { outputBytes: 4096 });
      assert.equal(r.outcome, 'output_limit');
      assert.equal(r.stdoutTruncated, true);
      assert.ok(Buffer.byteLength(r.stdout) <= 4096);
    });

    it('streams output as it is produced', async () => {
      // The program prints, then never ends: output handed over only at the end would come after
      // the deadline, and the run would end as timeout. Delivered while it runs, the first chunk
      // arrives first and ends the run by abort.
      const ac = new AbortController();
      const chunks: Uint8Array[] = [];
      let ended = false;
      let chunkWhileRunning = false;
      const r = await run(programs.printThenSpin, {
        signal: ac.signal,
        onOutput: (s, c) => {
          if (s !== 'stdout') return;
          chunks.push(c);
          if (!ended) chunkWhileRunning = true;
          ac.abort();
        },
      }, { timeoutMs: 15_000 }).finally(() => (ended = true));
      assert.equal(r.outcome, 'killed', `${r.outcome}: output must arrive while the program runs (${r.stderr})`);
      assert.ok(chunkWhileRunning, 'a chunk arrived before the run ended');
      assert.equal(Buffer.concat(chunks).toString(), '42\n');
      assert.equal(r.stdout, '42\n');
    });

    it('keeps output bytes exactly: NUL and control characters, streamed and in the result', async () => {
      const chunks: Uint8Array[] = [];
      const r = await run(programs.controls, { onOutput: (s, c) => s === 'stdout' && chunks.push(c) });
      assert.equal(r.outcome, 'success', r.stderr);
      assert.equal(r.stdout, 'a\0b\x1b[0m\r\n');
      assert.equal(r.stdoutBase64, Buffer.from('a\0b\x1b[0m\r\n').toString('base64'));
      assert.equal(Buffer.concat(chunks).toString('base64'), r.stdoutBase64);
    });

    it('announces the start once, before any output', async () => {
      const events: string[] = [];
      const r = await run(programs.hello, { onStart: () => events.push('start'), onOutput: () => events.push('output') });
      assert.equal(r.outcome, 'success');
      assert.equal(events[0], 'start');
      assert.equal(events.filter((e) => e === 'start').length, 1);
      assert.ok(events.includes('output'));
    });

    it('is killed when aborted', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      const r = await run(programs.spin, { signal: ac.signal }, { timeoutMs: 20_000 });
      assert.equal(r.outcome, 'killed');
    });
  });
}
