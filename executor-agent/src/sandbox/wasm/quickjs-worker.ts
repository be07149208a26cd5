/**
 * Worker thread entry for JavaScript: loads QuickJS once, then runs jobs one at a time. The parent
 * may terminate this thread at any moment (a deadline missed inside a long native call); nothing
 * here holds state that must survive that.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { QuickJsEngine } from './quickjs-engine.js';
import { WorkerOutput } from './worker-output.js';
import type { EngineWorkerData, FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort!;
const stopFlag = new Int32Array((workerData as EngineWorkerData).stopFlag);
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

const engine = await QuickJsEngine.load();
const { version } = createRequire(import.meta.url)('quickjs-emscripten/package.json') as { version: string };

port.on('message', (message: ToWorker) => {
  // `stop` needs no handling here: a synchronous evaluation never sees messages, so stopping
  // goes through stopFlag, which the interrupt handler polls.
  if (message.type !== 'run') return;
  void (async () => {
    const output = new WorkerOutput(post, message.limits.outputBytes);
    const result = await engine.run(message, {
      output,
      stopRequested: () => Atomics.load(stopFlag, 0) !== 0,
      started: () => post({ type: 'start' }),
    });
    output.flush();
    post({ type: 'done', exitCode: result.exitCode, ...(result.ended && { ended: result.ended }) });
    engine.prepare(message.limits.memoryMb);
  })().catch((error: unknown) => {
    // An engine fault outside any program: let the thread die so the parent reports it and replaces us.
    setImmediate(() => {
      throw error;
    });
  });
});

post({ type: 'ready', version });
