import type { Outcome, RunResult, SourceFile } from '@crucible/storage/domain';
import { OutputCollector } from '../output-collector.js';
import { PlatformError, type LanguageInfo, type RunRequest, type Sandbox } from '../sandbox.js';
import type { Execution, WorkerSpec } from './warm-worker.js';
import { WorkerPool } from './worker-pool.js';

export interface WasmSandboxOptions {
  /** Idle, loaded workers kept per engine, ready for the next run (default 1). */
  warmWorkers?: number;
}

type LanguageId = 'javascript' | 'wasm';

const LANGUAGES: Record<LanguageId, { name: string; worker: WorkerSpec }> = {
  javascript: {
    name: 'JavaScript (QuickJS)',
    // QuickJS bounds its recursion by its own stack accounting (1 MiB), but each QuickJS frame
    // also costs native stack in V8's wasm frames; 16 MiB leaves room so QuickJS's limit is hit
    // first. Deep native recursion it does not bound overflows V8 instead, which is caught.
    worker: { name: 'quickjs-worker', resourceLimits: { stackSizeMb: 16 } },
  },
  wasm: { name: 'WebAssembly (WASI)', worker: { name: 'wasi-worker' } },
};

/**
 * The Wasm sandbox: JavaScript on QuickJS and WASI preview 1 modules on @wasmer/sdk, each engine
 * in worker threads kept loaded between runs (a warm run costs milliseconds, not a process).
 *
 * Confinement: the engines expose no host objects, filesystem or network (JavaScript gets only
 * the ECMAScript globals plus `console`, `stdin`, `args` and `exit`; see console-prelude.ts). Memory
 * is bounded by each instance's WebAssembly memory maximum (quickjs-engine.ts, memory-limit.ts,
 * wasmer-internals.ts). The deadline and aborts are enforced from this thread by terminating a
 * worker that does not stop when asked (warm-worker.ts).
 */
export class WasmSandbox implements Sandbox {
  readonly kind = 'wasm' as const;
  private readonly pools: Record<LanguageId, WorkerPool>;
  private initialised = false;
  private disposed = false;

  constructor(options: WasmSandboxOptions = {}) {
    const keepWarm = options.warmWorkers ?? 1;
    this.pools = {
      javascript: new WorkerPool(LANGUAGES.javascript.worker, keepWarm),
      wasm: new WorkerPool(LANGUAGES.wasm.worker, keepWarm),
    };
  }

  languages(): LanguageInfo[] {
    return (Object.keys(LANGUAGES) as LanguageId[]).map((id) => {
      const pool = this.pools[id];
      const reason = !this.initialised ? 'not initialised' : pool.failure ?? (pool.version ? undefined : 'engine not loaded');
      return {
        id,
        name: LANGUAGES[id].name,
        version: pool.version ?? '',
        runtime: 'wasm',
        available: reason === undefined,
        ...(reason !== undefined && { reason }),
      };
    });
  }

  /** Loads both engines in warm workers. Never throws: an engine that fails is reported unavailable. */
  async init(): Promise<void> {
    await Promise.all(Object.values(this.pools).map((p) => p.init()));
    this.initialised = true;
  }

  async run(request: RunRequest): Promise<RunResult> {
    if (this.disposed) throw new PlatformError('the wasm sandbox has been disposed');
    const language = request.language as LanguageId;
    const pool = Object.hasOwn(this.pools, language) ? this.pools[language] : undefined;
    if (!pool) throw new PlatformError(`language ${JSON.stringify(request.language)} is not known to the wasm sandbox`);

    const { limits } = request;
    const stdout = new OutputCollector('stdout', limits.outputBytes, request.onOutput);
    const stderr = new OutputCollector('stderr', limits.outputBytes, request.onOutput);
    const finish = (outcome: Outcome, exitCode: number | null, durationMs: number): RunResult => ({
      outcome,
      exitCode,
      signal: null,
      ...OutputCollector.fields(stdout, stderr),
      durationMs: Math.round(durationMs),
    });

    const file = request.files[0];
    if (!file) {
      stderr.push('crucible: no source file was submitted\n');
      return finish('error', null, 0);
    }
    if (request.signal?.aborted) return finish('killed', null, 0);

    let worker;
    try {
      worker = await pool.acquire();
    } catch (error) {
      throw new PlatformError(`${LANGUAGES[language].name} is unavailable: ${messageOf(error)}`, { cause: error });
    }
    const posted = performance.now();
    let started: number | undefined;
    const running = worker.run(
      { type: 'run', file: language === 'javascript' ? asText(file) : file, stdin: request.stdin, args: request.args, limits },
      {
        timeoutMs: limits.timeoutMs,
        ...(request.signal && { signal: request.signal }),
        events: {
          onStart: () => {
            started = performance.now();
            request.onStart?.();
          },
          onOutput: ({ stream, data }) => {
            const kept = (stream === 'stdout' ? stdout : stderr).push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
            if (!kept) running.stop('output_limit');
          },
        },
      },
    );
    const execution = await running.finished;
    const durationMs = performance.now() - (started ?? posted);
    pool.release(worker, !execution.lost && !execution.done?.retire);

    if (execution.crash) {
      if ((execution.crash as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        stderr.push('crucible: the program exhausted the engine worker\'s memory\n');
        return finish('memory_limit', null, durationMs);
      }
      throw new PlatformError(`the ${LANGUAGES[language].name} engine failed: ${execution.crash.message}`, { cause: execution.crash });
    }
    const { outcome, exitCode } = decideOutcome(execution, stdout.truncated || stderr.truncated);
    return finish(outcome, exitCode, durationMs);
  }

  /** Terminates every engine worker, idle or running. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.disposed = true;
    await Promise.all(Object.values(this.pools).map((p) => p.close()));
  }
}

/**
 * Output past the cap decides the outcome whatever else happened; then a stop the parent asked for
 * (deadline, abort), then the engine's own reason, then the exit status. A program that finishes
 * during the grace after its deadline still timed out: it had not reported before the deadline.
 */
export function decideOutcome(execution: Execution, truncated: boolean): { outcome: Outcome; exitCode: number | null } {
  const { done, stopped } = execution;
  if (truncated || stopped === 'output_limit' || done?.ended === 'output_limit') return { outcome: 'output_limit', exitCode: null };
  if (stopped) return { outcome: stopped, exitCode: null };
  switch (done?.ended) {
    case 'timeout':
      return { outcome: 'timeout', exitCode: null };
    case 'memory_limit':
      return { outcome: 'memory_limit', exitCode: null };
    case 'stopped':
      return { outcome: 'killed', exitCode: null };
    case 'invalid':
    case 'trapped':
    case 'crashed':
      return { outcome: 'error', exitCode: null };
  }
  const exitCode = done?.exitCode ?? null;
  return { outcome: exitCode === 0 ? 'success' : 'error', exitCode };
}

/** JavaScript is text; a base64 upload of it is decoded here rather than in the engine. */
function asText(file: SourceFile): SourceFile {
  return file.encoding === 'base64' ? { ...file, content: Buffer.from(file.content, 'base64').toString('utf8'), encoding: 'utf8' } : file;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
