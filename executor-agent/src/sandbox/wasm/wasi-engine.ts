import { Wasmer, WasmerError, type Command, type ReadableBytes } from '@wasmer/sdk/node';
import wabtInit from 'wabt';
import { InvalidProgramError, type OutputStream } from '../sandbox.js';
import { prepareWasiModule, type Wabt } from './wasi-program.js';
import type { WasmMemory } from './wasm-api.js';
import { initWasmerCore, loadWorkerFailureCounter } from './wasmer-internals.js';
import { WorkerOutput } from './worker-output.js';
import type { EngineEnded, RunJob } from './worker-protocol.js';

/** How often the runtime's heap and workers are checked while a program runs. */
const WATCH_INTERVAL_MS = 5;
/** Past this, the runtime heap is not worth keeping (it never shrinks): the worker is replaced. */
const RETIRE_CORE_BYTES = 256 * 1024 * 1024;

/** A tiny WASI program run once at load: the runtime's first process costs ~100 ms of setup. */
const WARM_UP_WAT = '(module (memory (export "memory") 1) (func (export "_start")))';

export interface WasiRunIo {
  output: WorkerOutput;
  started(): void;
}

export interface WasiRunResult {
  exitCode: number | null;
  ended?: EngineEnded;
  retire?: boolean;
}

/**
 * Runs WASI preview 1 modules on @wasmer/sdk: each run gets a fresh sandbox (in-memory filesystem,
 * no host directories, networking disabled, empty environment) that is closed afterwards.
 */
export class WasiEngine {
  private stopCurrent?: (reason: EngineEnded) => void;
  /** A stop that arrived while the program was still being prepared. */
  private stopPending = false;

  private constructor(
    private readonly wasmer: Wasmer,
    private readonly wabt: Wabt,
    private readonly coreMemory: WasmMemory,
    private readonly workerFailures: () => number,
  ) {}

  static async load(): Promise<WasiEngine> {
    const core = await initWasmerCore();
    const [wabt, wasmer, workerFailures] = await Promise.all([
      wabtInit(),
      new Wasmer({ cache: false, wasm: core.wasm, parallelism: 1 }).ready(),
      loadWorkerFailureCounter(),
    ]);
    const engine = new WasiEngine(wasmer, wabt, core.memory, workerFailures);
    const file = { name: 'warm-up.wat', content: WARM_UP_WAT, encoding: 'utf8' as const };
    const limits = { timeoutMs: 10_000, memoryMb: 16, outputBytes: 1024 };
    const warm = await engine.run({ type: 'run', file, stdin: '', args: [], limits }, { output: new WorkerOutput(() => undefined, 1024), started: () => undefined });
    if (warm.exitCode !== 0) throw new Error(`the WASI runtime failed its warm-up run (${warm.ended ?? `exit ${warm.exitCode}`})`);
    return engine;
  }

  /** Ends the running program, if any (the parent's abort or deadline). */
  stop(): void {
    if (this.stopCurrent) this.stopCurrent('stopped');
    else this.stopPending = true;
  }

  async run(job: RunJob, io: WasiRunIo): Promise<WasiRunResult> {
    this.stopPending = false;
    let pkg;
    try {
      pkg = await this.wasmer.packages.load(prepareWasiModule(job.file, job.limits.memoryMb, this.wabt));
    } catch (error) {
      // The runtime's own checks on a package are about the program too.
      const refused = error instanceof InvalidProgramError ? error.message
        : WasmerError.is(error, 'PACKAGE_LOAD_FAILED') ? `invalid WASI program: ${error.message.replace(/^unable to load package `[^`]*`[^:]*: /, '')}`
        : undefined;
      if (refused === undefined) throw error;
      io.output.write('stderr', `crucible: ${refused}\n`);
      return { exitCode: null, ended: 'invalid' };
    }
    const sandbox = await this.wasmer.sandboxes.create({ packages: [pkg], network: { mode: 'disabled' }, env: {} });
    const result = await this.execute(sandbox.command(pkg, job.args), job, io);
    // After a runtime failure, closing may never settle; the worker is being replaced anyway.
    if (result.ended !== 'crashed') await sandbox.close().catch(() => undefined);
    return result;
  }

  private async execute(command: Command, job: RunJob, io: WasiRunIo): Promise<WasiRunResult> {
    const failuresBefore = this.workerFailures();
    const guest = await command.spawn({ stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
    io.started();
    let ended: EngineEnded | undefined;
    let giveUp!: () => void;
    const crashed = new Promise<'crashed'>((resolve) => (giveUp = () => resolve('crashed')));
    const stop = (reason: EngineEnded) => {
      ended ??= reason;
      if (reason === 'crashed') giveUp();
      else void guest.kill().catch(() => undefined);
    };
    this.stopCurrent = stop;
    if (this.stopPending) stop('stopped');

    // What the runtime keeps for this program (files, buffers) may grow by as much as its own
    // memory limit; the guest's linear memory is bounded separately, by its module.
    const budget = job.limits.memoryMb * 1024 * 1024;
    const baseline = this.coreMemory.buffer.byteLength;
    const watch = setInterval(() => {
      // Small writes wait in WorkerOutput's batch; without this they reached the parent only when
      // the program ended (QuickJS ticks from its interrupt handler; a WASI guest has none).
      io.output.tick();
      if (ended) return;
      if (this.workerFailures() > failuresBefore) {
        io.output.write('stderr', 'crucible: the WASI runtime failed while running this program\n');
        stop('crashed');
      } else if (this.coreMemory.buffer.byteLength - baseline > budget) {
        io.output.write('stderr', `crucible: the program's files and buffers in the runtime exceeded the memory limit of ${job.limits.memoryMb} MiB\n`);
        stop('memory_limit');
      }
    }, WATCH_INTERVAL_MS);

    const feed = (async () => {
      if (job.stdin) await guest.stdin!.write(job.stdin);
      await guest.stdin!.close();
    })().catch(() => undefined); // a program may exit without reading its input
    const pump = async (stream: OutputStream, source: ReadableBytes) => {
      for await (const chunk of source) {
        if (!io.output.write(stream, chunk)) stop('output_limit');
        else io.output.tick();
      }
    };
    // Output is drained even when the program traps, so what it wrote before the trap is kept.
    const waited = guest.wait().then(
      (output) => ({ output }),
      (error: unknown) => ({ error }),
    );
    const exited = Promise.all([
      waited,
      pump('stdout', guest.stdout!).catch(() => undefined),
      pump('stderr', guest.stderr!).catch(() => undefined),
      feed,
    ]).then(([result]) => result);

    let exit: Awaited<typeof waited> | 'crashed';
    try {
      exit = await Promise.race([exited, crashed]);
    } finally {
      clearInterval(watch);
      this.stopCurrent = undefined;
    }
    if (exit !== 'crashed' && 'error' in exit) {
      // A trap (unreachable, out-of-bounds access, stack exhaustion) rejects the wait.
      if (!WasmerError.is(exit.error, 'EXECUTION_ERROR')) throw exit.error;
      const trap = exit.error.message.replace(/^command execution failed: RuntimeError: js: /, '').split('\n')[0];
      io.output.write('stderr', `crucible: the program trapped: ${trap}\n`);
      return { exitCode: null, ended: ended ?? 'trapped' };
    }
    if (exit === 'crashed') return { exitCode: null, ended: 'crashed', retire: true };
    const retire = this.coreMemory.buffer.byteLength > RETIRE_CORE_BYTES;
    return { exitCode: ended ? null : exit.output.exitCode, ...(ended && { ended }), ...(retire && { retire }) };
  }
}
