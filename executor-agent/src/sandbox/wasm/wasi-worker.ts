/**
 * Worker thread entry for WASI: loads wabt and @wasmer/sdk once, then runs jobs one at a time.
 * The SDK runs guests on worker threads of its own, nested under this one, so terminating this
 * thread (a guest spinning in pure computation ignores the SDK's kill) takes them down too.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { WasiEngine } from './wasi-engine.js';
import { WorkerOutput } from './worker-output.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort!;
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

const engine = await WasiEngine.load();
// The SDK's package.json is not in its exports map; it sits beside the resolved entry's folder.
const sdkPackage = new URL('../package.json', import.meta.resolve('@wasmer/sdk/node'));
const { version } = JSON.parse(await readFile(sdkPackage, 'utf8')) as { version: string };

port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') return engine.stop();
  void (async () => {
    const output = new WorkerOutput(post, message.limits.outputBytes);
    const result = await engine.run(message, { output, started: () => post({ type: 'start' }) });
    output.flush();
    post({
      type: 'done',
      exitCode: result.exitCode,
      ...(result.ended && { ended: result.ended }),
      ...(result.retire && { retire: true }),
    });
  })().catch((error: unknown) => {
    // A runtime fault outside any program: let the thread die so the parent reports it and replaces us.
    setImmediate(() => {
      throw error;
    });
  });
});

post({ type: 'ready', version });
