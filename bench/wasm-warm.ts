/**
 * `npm run bench:wasm`: what a warm JavaScript run in the Wasm sandbox costs, as a ratio to a bare
 * QuickJS eval (a fresh runtime and context from the same QuickJS build, in this thread, no
 * sandbox), measured interleaved in the same run (see bench/RESULTS.md). It replaces the test's
 * former "median warm run under 20 ms": a speed figure belongs here, judged against a baseline
 * that the host's load slows alike, not in a test that a loaded machine fails. Progress to
 * stderr, markdown to stdout.
 */
import { performance } from 'node:perf_hooks';
import { RELEASE_SYNC, newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';
import { WasmSandbox } from '@crucible/executor-agent/wasm';
import { interleavedLatency, summarize } from './measure.js';

async function main(): Promise<void> {
  const samples = Number(process.env.BENCH_SAMPLES ?? 30);
  const warmup = Number(process.env.BENCH_WARMUP ?? 3);
  const quickjs = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
  const sandbox = new WasmSandbox();
  await sandbox.init();
  let n = 0;
  // Each task times its own work after an untimed pause; interleavedLatency gives the order.
  const warm: number[] = [];
  const bare: number[] = [];
  let measuring = false;
  const record = (into: number[], since: number) => measuring && into.push(performance.now() - since);
  try {
    const warmRun = async () => {
      // Time for the sandbox to prepare its spare instance, as between tasks on an agent.
      await new Promise((r) => setTimeout(r, 10));
      const t = performance.now();
      const r = await sandbox.run({
        evaluationId: `bench-wasm-${++n}`,
        language: 'javascript',
        files: [{ name: 'main.js', content: 'console.log(42)', encoding: 'utf8' }],
        stdin: '',
        args: [],
        limits: { ...DEFAULT_LIMITS, timeoutMs: 5000 },
      });
      record(warm, t);
      if (r.outcome !== 'success' || r.stdout !== '42\n') throw new Error(`warm run: ${r.outcome} ${r.stderr}`);
    };
    const bareEval = async () => {
      await new Promise((r) => setTimeout(r, 10)); // the same pause, so both see the same host
      const t = performance.now();
      const runtime = quickjs.newRuntime();
      const vm = runtime.newContext();
      try {
        const value = vm.unwrapResult(vm.evalCode('42'));
        if (vm.getNumber(value) !== 42) throw new Error('bare eval did not give 42');
        value.dispose();
      } finally {
        vm.dispose();
        runtime.dispose();
      }
      record(bare, t);
    };
    process.stderr.write(`bench: ${warmup} warm-up + ${samples} samples\n`);
    await interleavedLatency(warmup, 0, [warmRun, bareEval]);
    measuring = true;
    await interleavedLatency(0, samples, [warmRun, bareEval]);
    const w = summarize(warm);
    const b = summarize(bare);
    process.stdout.write(
      [
        `Warm Wasm JavaScript run, ${samples} interleaved samples each (ms; each after an untimed 10 ms pause, in which the sandbox prepares its spare instance).`,
        '',
        '| series | p50 | p95 | min |',
        '| --- | ---: | ---: | ---: |',
        `| WasmSandbox.run \`console.log(42)\` (warm) | ${w.p50.toFixed(2)} | ${w.p95.toFixed(2)} | ${w.min.toFixed(2)} |`,
        `| bare QuickJS runtime + context + eval \`42\` | ${b.p50.toFixed(2)} | ${b.p95.toFixed(2)} | ${b.min.toFixed(2)} |`,
        `| ratio (p50) | ${(w.p50 / b.p50).toFixed(1)} | | |`,
        '',
      ].join('\n'),
    );
  } finally {
    await sandbox[Symbol.asyncDispose]();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
