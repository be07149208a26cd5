/**
 * `npm run bench:sandbox`: what the container sandbox costs to start, per language runtime and per
 * engine runtime (runc vs runsc), as ratios to a bare `docker run --rm <same image>` on the same
 * engine runtime, measured interleaved in the same run (see bench/RESULTS.md). No platform: the
 * sandbox is driven directly, so this is the sandbox's own overhead (confinement flags, seccomp,
 * attach, code directory, removal), not the queue's. Progress to stderr, markdown to stdout.
 */
import { spawn } from 'node:child_process';
import { DEFAULT_LIMITS, type ContainerRuntime } from '@crucible/storage/domain';
import { ContainerSandbox, loadRuntimeCatalog } from '@crucible/executor-agent/container';
import { DEFAULT_DOCKER_HOST } from './baselines.js';
import { interleavedLatency, summarize } from './measure.js';

/** A trivial program per language; compiled ones pay their compile step, which is the point. */
const PROGRAMS: Record<string, { file: string; code: string }> = {
  python: { file: 'main.py', code: 'print(1)' },
  'python-ml': { file: 'main.py', code: 'print(1)' },
  'javascript-node': { file: 'main.js', code: 'console.log(1)' },
  bash: { file: 'main.sh', code: 'echo 1' },
  c: { file: 'main.c', code: '#include <stdio.h>\nint main(void) { puts("1"); return 0; }\n' },
  cpp: { file: 'main.cpp', code: '#include <cstdio>\nint main() { std::puts("1"); }\n' },
};

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function bareRun(dockerHost: string, runtime: ContainerRuntime, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', '--runtime', runtime, '--network', 'none', image, 'true'], {
      env: { ...process.env, DOCKER_HOST: dockerHost },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker run ${image}: exit ${code}: ${err.trim()}`))));
  });
}

async function main(): Promise<void> {
  const dockerHost = process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  const samples = Number(process.env.BENCH_SAMPLES ?? 10);
  const warmup = Number(process.env.BENCH_WARMUP ?? 2);
  const catalog = await loadRuntimeCatalog();
  const rows: string[] = [];
  let n = 0;
  for (const runtime of ['runc', 'runsc'] as const) {
    const sandbox = new ContainerSandbox({ docker: dockerHost, agentId: `bench-sandbox-${process.pid}`, runtime, allowedRuntimes: [runtime] });
    await sandbox.init();
    try {
      for (const def of catalog) {
        const program = PROGRAMS[def.id];
        const info = sandbox.languages().find((l) => l.id === def.id);
        if (!program || !info?.available) {
          progress(`${runtime} ${def.id}: skipped (${info?.reason ?? 'no program'})`);
          continue;
        }
        progress(`${runtime} ${def.id}: ${warmup} warm-up + ${samples} samples`);
        const viaSandbox = async () => {
          const r = await sandbox.run({
            evaluationId: `bench-${process.pid}-${++n}`,
            language: def.id,
            files: [{ name: program.file, content: program.code, encoding: 'utf8' }],
            stdin: '',
            args: [],
            limits: { ...DEFAULT_LIMITS, timeoutMs: 30_000 },
          });
          if (r.outcome !== 'success' || r.stdout !== '1\n') throw new Error(`${def.id} on ${runtime}: ${r.outcome} ${r.stderr}`);
        };
        const [sb, bare] = await interleavedLatency(warmup, samples, [viaSandbox, () => bareRun(dockerHost, runtime, def.image)]);
        const s = summarize(sb!);
        const b = summarize(bare!);
        rows.push(`| ${def.id} | ${runtime} | ${s.p50.toFixed(0)} | ${b.p50.toFixed(0)} | ${(s.p50 / b.p50).toFixed(2)} | ${def.compile ? 'yes (two containers)' : 'no'} |`);
      }
    } finally {
      await sandbox[Symbol.asyncDispose]();
    }
  }
  process.stdout.write(
    [
      `Sandbox start overhead, ${samples} interleaved samples each (p50, ms). "bare" is \`docker run --rm --runtime <rt> --network none <image> true\`.`,
      '',
      '| language | engine runtime | sandbox p50 | bare docker run p50 | ratio | compile step |',
      '| --- | --- | ---: | ---: | ---: | --- |',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
