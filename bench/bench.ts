/**
 * `npm run bench`: end-to-end latency and throughput of trivial evaluations through the HTTP API,
 * each beside a bare baseline measured in the same run (see bench/RESULTS.md). Progress goes to
 * stderr; the report, in markdown, to stdout.
 */
import { loadavg } from 'node:os';
import { DEFAULT_DOCKER_HOST, dockerRun, nodeSpawn, pythonImage } from './baselines.js';
import { interleavedLatency, throughput } from './measure.js';
import { BenchPlatform, type TimedEvaluation } from './platform.js';
import { describeMachine, renderReport, type CaseResult } from './report.js';

interface BenchConfig {
  dockerHost: string;
  redisUrl: string;
  containerRuntime: string;
  agents: number;
  agentConcurrency: number;
  warmup: number;
  samples: number;
  count: number;
}

/** Reads the environment once; sample counts suit a 2-core machine (a few minutes in all). */
function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<BenchConfig> {
  const int = (name: string, fallback: number) => {
    const n = Number(env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
    return n;
  };
  return Object.freeze({
    dockerHost: env.DOCKER_HOST || DEFAULT_DOCKER_HOST,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    containerRuntime: env.CRUCIBLE_CONTAINER_RUNTIME || 'runc',
    // The platform's defaults (README "Configuration"), stated so the report can name them.
    agents: 2,
    agentConcurrency: 2,
    warmup: int('BENCH_WARMUP', 3),
    samples: int('BENCH_SAMPLES', 30),
    count: int('BENCH_COUNT', 200),
  });
}

/** One language: what the platform runs, and the bare process it is compared with. */
interface Case {
  language: string;
  code: string;
  baseline: string;
  bare: () => Promise<void>;
  /** Extra baselines for context, e.g. the bare run with one of the platform's options added. */
  references: { baseline: string; bare: () => Promise<void> }[];
}

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

async function main(): Promise<void> {
  const config = loadConfig();
  // Both sides get the parallelism the platform has per lane, so neither is offered more work
  // at once than the other can run.
  const parallelism = config.agents * config.agentConcurrency;
  const baselineEnv = { dockerHost: config.dockerHost, containerRuntime: config.containerRuntime };

  const loadAtStart = loadavg()[0]!;
  progress('building (tsc -b)');
  await BenchPlatform.build();
  const image = await pythonImage(baselineEnv);
  const machine = await describeMachine(config.dockerHost, config.containerRuntime);

  progress('starting the platform');
  await using platform = await BenchPlatform.start(config);
  // Ctrl-C still stops the platform and removes its data and Redis keys.
  process.once('SIGINT', () => void platform.close().finally(() => process.exit(130)));
  await platform.waitForLanguages(['python', 'javascript']);

  const cases: Case[] = [
    {
      language: 'python',
      code: 'print(1)',
      baseline: `docker run --rm ${image} python3 -c 'print(1)'`,
      bare: () => dockerRun(baselineEnv, image),
      // Every platform container has no network; on some engines that alone costs a lot at start.
      references: [{ baseline: `docker run --rm --network none ${image} python3 -c 'print(1)'`, bare: () => dockerRun(baselineEnv, image, ['--network', 'none']) }],
    },
    { language: 'javascript', code: 'console.log(1)', baseline: `node -e 'console.log(1)'`, bare: nodeSpawn, references: [] },
  ];
  const results: CaseResult[] = [];
  for (const c of cases) {
    const samples: TimedEvaluation[] = [];
    const submit = async () => samples.push(await platform.evaluate({ language: c.language, code: c.code }));

    progress(`${c.language}: latency, platform and baselines interleaved`);
    const [platformLatency, baselineLatency, ...referenceLatency] = await interleavedLatency(config.warmup, config.samples, [
      submit,
      c.bare,
      ...c.references.map((r) => r.bare),
    ]);
    // The platform's run sits between the baseline's and the references', again against drift.
    progress(`${c.language}: baseline throughput`);
    const baselineThroughputMs = await throughput(config.count, parallelism, c.bare);
    progress(`${c.language}: platform throughput`);
    const firstThroughputSample = samples.length;
    const platformThroughputMs = await throughput(config.count, parallelism, submit);
    const references = [];
    for (const [i, r] of c.references.entries()) {
      progress(`${c.language}: reference throughput (${r.baseline})`);
      references.push({ baseline: r.baseline, latency: referenceLatency[i]!, throughputMs: await throughput(config.count, parallelism, r.bare) });
    }

    results.push({
      language: c.language,
      code: c.code,
      baseline: c.baseline,
      references,
      platformLatency: platformLatency!,
      baselineLatency: baselineLatency!,
      // Only the measured sequential runs: warm-up and concurrent ones would skew the breakdown.
      platformSamples: samples.slice(config.warmup, firstThroughputSample),
      platformThroughputMs,
      baselineThroughputMs,
    });
  }

  const platformLine = `${config.agents} agents × ${config.agentConcurrency} tasks, embedded PGlite, python image ${image}`;
  process.stdout.write(`${renderReport({ date: new Date(), machine, platform: platformLine, load: [loadAtStart, loadavg()[0]!], warmup: config.warmup, count: config.count, parallelism }, results)}\n`);
  progress('stopping the platform');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
