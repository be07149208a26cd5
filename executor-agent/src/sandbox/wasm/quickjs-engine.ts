import { readFile } from 'node:fs/promises';
import {
  RELEASE_SYNC,
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';
import { CONSOLE_PRELUDE } from './console-prelude.js';
import { watchGrowth, type WatchedMemory } from './growth-watch.js';
import { pagesForMegabytes } from './memory-limit.js';
import { wasmApi, type WasmModule } from './wasm-api.js';
import type { WorkerOutput } from './worker-output.js';
import type { EngineEnded, RunJob } from './worker-protocol.js';

/** The QuickJS build imports a memory of at least 256 pages: its data, C stack and first heap. */
const ENGINE_MIN_PAGES = 256;
/** QuickJS's own recursion limit; kept well inside the worker thread's native stack (see wasm-sandbox.ts). */
const MAX_STACK_BYTES = 1024 * 1024;
/** What the platform asks for when a request sets nothing; the first spare instance uses it. */
const USUAL_MEMORY_MB = 256;

export interface JsRunIo {
  output: WorkerOutput;
  /** True once the parent asked the job to stop (abort, deadline, output cap). */
  stopRequested(): boolean;
  /** Called just before the program's first instruction. */
  started(): void;
}

export interface JsRunResult {
  exitCode: number | null;
  ended?: EngineEnded;
}

/** A QuickJS instance with its runtime, context and parsed prelude, ready for one program. */
interface Instance {
  memoryMb: number;
  runtime: QuickJSRuntime;
  vm: QuickJSContext;
  /** The prelude's installer: called with the program's capabilities and inputs. */
  install: QuickJSHandle;
  /** The instance's memory, counting the refusals of its maximum (the memory_limit evidence). */
  memory: WatchedMemory;
}

interface RunState {
  exitCode?: number;
  /** The prelude's formatError, to print an uncaught exception as console would. */
  formatError?: QuickJSHandle;
  timedOut: boolean;
  stopped: boolean;
}

/**
 * Runs JavaScript in QuickJS, one fresh WebAssembly instance per run.
 *
 * Why an instance per run rather than only a runtime per run: this QuickJS build counts 8 bytes
 * per allocation against its memory limit (malloc_usable_size is unavailable), so
 * `setMemoryLimit` alone let a 32 MiB program use hundreds. The instance's memory, created here
 * with a hard maximum, is the real limit; it also returns to the host when the run ends (wasm
 * memories never shrink) and nothing of one program can linger for the next. Instantiating the
 * precompiled module takes about a millisecond, and a spare is prepared between runs.
 */
export class QuickJsEngine {
  private spare?: { memoryMb: number; instance: Promise<Instance> };

  private constructor(private readonly compiled: WasmModule) {}

  static async load(): Promise<QuickJsEngine> {
    const wasm = await readFile(new URL(import.meta.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
    const engine = new QuickJsEngine(await wasmApi.compile(wasm));
    engine.prepare(USUAL_MEMORY_MB);
    await engine.spare?.instance;
    return engine;
  }

  /**
   * Instantiates ahead of time, so that the next run with this memory limit starts at once
   * (instantiating and parsing the prelude take about 2 ms; the program itself often less).
   */
  prepare(memoryMb: number): void {
    if (this.spare?.memoryMb === memoryMb || pagesForMegabytes(memoryMb) < ENGINE_MIN_PAGES) return;
    const instance = this.instantiate(memoryMb);
    instance.catch(() => undefined); // surfaced when taken
    this.spare = { memoryMb, instance };
  }

  async run(job: RunJob, io: JsRunIo): Promise<JsRunResult> {
    const { memoryMb, timeoutMs } = job.limits;
    if (pagesForMegabytes(memoryMb) < ENGINE_MIN_PAGES) {
      io.output.write('stderr', `crucible: JavaScript needs a memory limit of at least 16 MiB; this run allows ${memoryMb} MiB\n`);
      return { exitCode: null, ended: 'memory_limit' };
    }
    const { runtime, vm, install, memory } = await this.take(memoryMb);
    const refusalsBefore = memory.refusals();
    const deadline = Date.now() + timeoutMs;
    const state: RunState = { timedOut: false, stopped: false };
    runtime.setInterruptHandler(() => {
      io.output.tick();
      if (state.exitCode !== undefined || io.output.overflowed) return true;
      if (io.stopRequested()) return (state.stopped = true);
      if (Date.now() >= deadline) return (state.timedOut = true);
      return false;
    });
    // The verdict comes from the platform, never from what the program threw or printed: only
    // a refusal of the memory's maximum (which the program cannot fake) makes a failure a
    // memory_limit. A program that throws its own "InternalError: out of memory" is an error.
    const hitLimit = () => memory.refusals() > refusalsBefore;
    let failure: string | undefined;
    let outOfMemory = false;
    try {
      const error = evaluate(vm, runtime, install, job, io, state);
      outOfMemory = hitLimit();
      // Formatting could itself fail for want of memory; the engine's own words are known.
      if (error) failure = outOfMemory ? 'InternalError: out of memory' : describeError(vm, error, state.formatError);
    } catch (error) {
      // An exception from the host side of the engine: V8's own stack overflowed inside a deep
      // native recursion QuickJS does not bound (e.g. JSON.stringify of deeply nested arrays), or
      // the instance aborted. The instance is left inconsistent, but it is discarded anyway.
      outOfMemory = hitLimit();
      failure = outOfMemory ? 'InternalError: out of memory' : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    // Deliberately no runtime/context dispose: the whole instance is dropped and collected, and
    // disposing after an interrupted or failed run can itself abort on leaked objects.
    if (state.exitCode !== undefined) return { exitCode: state.exitCode };
    if (io.output.overflowed) return { exitCode: null, ended: 'output_limit' };
    if (state.stopped) return { exitCode: null, ended: 'stopped' };
    if (state.timedOut) return { exitCode: null, ended: 'timeout' };
    if (failure === undefined) return { exitCode: 0 };
    io.output.write('stderr', `${failure}\n`);
    return outOfMemory ? { exitCode: null, ended: 'memory_limit' } : { exitCode: 1 };
  }

  private take(memoryMb: number): Promise<Instance> {
    const spare = this.spare;
    this.spare = undefined;
    return spare?.memoryMb === memoryMb ? spare.instance : this.instantiate(memoryMb);
  }

  private async instantiate(memoryMb: number): Promise<Instance> {
    const memory = watchGrowth(new wasmApi.Memory({ initial: ENGINE_MIN_PAGES, maximum: pagesForMegabytes(memoryMb) }));
    const qjs = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: this.compiled, wasmMemory: memory.memory }));
    const runtime = qjs.newRuntime();
    // Deliberately no runtime.setMemoryLimit: QuickJS's own limit undercounts (see above), and an
    // allocation it refused would never reach the memory's maximum, leaving no evidence of the
    // limit (growth-watch.ts). The memory's maximum is the one limit.
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    const vm = runtime.newContext();
    const install = vm.unwrapResult(vm.evalCode(CONSOLE_PRELUDE, '<prelude>', { type: 'global', strict: true }));
    return { memoryMb, runtime, vm, install, memory };
  }
}

/**
 * Installs the console and globals, runs the program and its promise jobs. Returns the uncaught
 * exception, if any.
 */
function evaluate(vm: QuickJSContext, runtime: QuickJSRuntime, install: QuickJSHandle, job: RunJob, io: JsRunIo, state: RunState) {
  const write = vm.newFunction('write', (fd, text, nuls) => {
    if (state.exitCode !== undefined || io.output.overflowed) return vm.newNumber(-1);
    const stream = vm.getNumber(fd) === 2 ? 'stderr' : 'stdout';
    // The prelude sends NUL-free pieces (getString reads a C string) and how many NULs follow.
    const count = Math.min(Math.max(0, Math.trunc(vm.getNumber(nuls)) || 0), io.output.room(stream) + 1);
    const ok = io.output.write(stream, count > 0 ? vm.getString(text) + '\0'.repeat(count) : vm.getString(text));
    return vm.newNumber(ok ? io.output.room(stream) : -1);
  });
  const requestExit = vm.newFunction('exit', (code) => {
    state.exitCode ??= exitStatus(vm.getNumber(code));
  });
  const args = vm.newArray();
  job.args.forEach((arg, i) => vm.setProp(args, i, vm.newString(arg)));
  const api = vm.unwrapResult(
    vm.callFunction(install, vm.undefined, write, requestExit, vm.newString(job.stdin), args, vm.newNumber(job.limits.outputBytes)),
  );
  state.formatError = vm.getProp(api, 'formatError');

  io.started();
  const result = vm.evalCode(job.file.content, job.file.name || 'main.js', { type: 'global' });
  if (result.error) return result.error;
  while (runtime.hasPendingJob()) {
    const jobs = runtime.executePendingJobs();
    if (jobs.error) return jobs.error;
  }
  // `async function main() {…} main()` leaves its promise as the completion value: a rejection
  // there is the program failing, as Node would report it.
  const settled = vm.getPromiseState(result.value);
  return settled.type === 'rejected' ? settled.error : undefined;
}

/** The error as the console would print it, or the best description still obtainable. */
function describeError(vm: QuickJSContext, error: QuickJSHandle, format: QuickJSHandle | undefined): string {
  try {
    if (format) {
      const pieces = vm.callFunction(format, vm.undefined, error);
      if (!pieces.error) return joinPieces(vm, pieces.value);
    }
  } catch {
    // fall through
  }
  // Not vm.dump: it would copy an arbitrarily large thrown value into this thread.
  return `Uncaught exception (a ${vm.typeof(error)} that could not be formatted)`;
}

/** Joins the NUL-free pieces of a text (the prelude's form, see noNul) back into the text. */
function joinPieces(vm: QuickJSContext, pieces: QuickJSHandle): string {
  const length = vm.getNumber(vm.getProp(pieces, 'length'));
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(vm.getString(vm.getProp(pieces, i)));
  return parts.join('\0');
}

/** Maps exit(code) to a process status as Node would: integers modulo 256, anything else 1. */
function exitStatus(code: number): number {
  const n = Math.trunc(code);
  return Number.isFinite(n) ? ((n % 256) + 256) % 256 : 1;
}
