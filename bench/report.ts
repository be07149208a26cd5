import { execFile } from 'node:child_process';
import { availableParallelism, release, totalmem, type } from 'node:os';
import { promisify } from 'node:util';
import type { TimedEvaluation } from './platform.js';
import { summarize, type Summary } from './measure.js';

/** Figures for one language: the platform beside its bare baseline, all from the same run. */
export interface CaseResult {
  language: string;
  code: string;
  baseline: string;
  platformLatency: number[];
  baselineLatency: number[];
  /** Per latency sample, for the breakdown. */
  platformSamples: TimedEvaluation[];
  platformThroughputMs: number;
  baselineThroughputMs: number;
  /** Extra baselines shown for context; the targets use `baseline`. */
  references: { baseline: string; latency: number[]; throughputMs: number }[];
}

export interface RunInfo {
  date: Date;
  machine: string;
  platform: string;
  /** 1-minute load average before and after: other work on the host skews every figure. */
  load: [number, number];
  warmup: number;
  count: number;
  parallelism: number;
}

/** One line describing the host, as RESULTS.md records it. */
export async function describeMachine(dockerHost: string, containerRuntime: string): Promise<string> {
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const info = await promisify(execFile)('docker', ['info', '--format', '{{json .}}'], { env })
    .then(({ stdout }) => JSON.parse(stdout) as { ServerVersion?: string; SecurityOptions?: string[]; Driver?: string; CgroupVersion?: string })
    .catch(() => ({}) as Record<string, undefined>);
  const security = (info.SecurityOptions ?? []).map((o) => /name=(\w+)/.exec(o)?.[1]).filter(Boolean);
  const mode = [
    containerRuntime,
    security.includes('userns') ? 'userns-remap' : 'no userns-remap',
    security.includes('rootless') ? 'rootless' : undefined,
    info.Driver,
    info.CgroupVersion ? `cgroup v${info.CgroupVersion}` : undefined,
  ].filter(Boolean);
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${availableParallelism()} CPUs, ${gib} GiB RAM, ${type()} ${release()}, Node ${process.version}, Docker ${info.ServerVersion ?? 'unknown'} (${mode.join(', ')})`;
}

/** The whole report as markdown, ready to paste into bench/RESULTS.md. */
export function renderReport(run: RunInfo, cases: CaseResult[]): string {
  const lines = [
    `## ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- machine: ${run.machine}`,
    `- platform: ${run.platform}`,
    `- host load (1-min average) at start / end: ${run.load[0].toFixed(2)} / ${run.load[1].toFixed(2)}`,
    '',
    `### End-to-end latency (ms; submit → terminal; ${cases[0]?.platformLatency.length ?? 0} sequential samples each after ${run.warmup} warm-up rounds, platform and baselines interleaved)`,
    '',
    '| evaluation | platform p50 | platform p95 | baseline | baseline p50 | baseline p95 | ratio p50 | ratio p95 |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    const p = summarize(c.platformLatency);
    const b = summarize(c.baselineLatency);
    lines.push(`| ${c.language} \`${c.code}\` | ${ms(p.p50)} | ${ms(p.p95)} | \`${c.baseline}\` | ${ms(b.p50)} | ${ms(b.p95)} | ${ratio(p.p50, b.p50)} | ${ratio(p.p95, b.p95)} |`);
    for (const r of c.references) {
      const rs = summarize(r.latency);
      lines.push(`| ↳ same, reference | ${ms(p.p50)} | ${ms(p.p95)} | \`${r.baseline}\` | ${ms(rs.p50)} | ${ms(rs.p95)} | ${ratio(p.p50, rs.p50)} | ${ratio(p.p95, rs.p95)} |`);
    }
  }
  lines.push(
    '',
    `### Throughput (${run.count} evaluations, ${run.parallelism} in flight, until all are terminal)`,
    '',
    '| evaluation | platform total s | platform eval/s | baseline | baseline total s | baseline runs/s | ratio (time) |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: |',
  );
  for (const c of cases) {
    const rate = (total: number) => (run.count / (total / 1000)).toFixed(1);
    const row = (label: string, baseline: string, baselineMs: number) =>
      `| ${label} | ${(c.platformThroughputMs / 1000).toFixed(1)} | ${rate(c.platformThroughputMs)} | \`${baseline}\` | ${(baselineMs / 1000).toFixed(1)} | ${rate(baselineMs)} | ${ratio(c.platformThroughputMs, baselineMs)} |`;
    lines.push(row(c.language, c.baseline, c.baselineThroughputMs));
    for (const r of c.references) lines.push(row('↳ same, reference', r.baseline, r.throughputMs));
  }
  lines.push(
    '',
    '### Where the platform latency goes (median ms over the latency samples)',
    '',
    // createdAt/startedAt/finishedAt are stamped by the database when the gateway inserts and the
    // scheduler persists the agent's reports, so these are the platform's own milestones.
    '| evaluation | submit → created | created → started | started → finished | program (durationMs) | finished → response |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const c of cases) {
    const b = breakdown(c.platformSamples);
    lines.push(`| ${c.language} | ${ms(b.admit.p50)} | ${ms(b.queue.p50)} | ${ms(b.run.p50)} | ${ms(b.program.p50)} | ${ms(b.reply.p50)} |`);
  }
  lines.push('', '### Targets', '');
  const js = cases.find((c) => c.language === 'javascript');
  const py = cases.find((c) => c.language === 'python');
  if (js) {
    const p = summarize(js.platformLatency).p50;
    const b = summarize(js.baselineLatency).p50;
    lines.push(`- Wasm e2e p50 below a bare \`node -e\` spawn: **${p < b ? 'met' : 'missed'}** (${ms(p)} ms vs ${ms(b)} ms, ${ratio(p, b)})`);
  }
  if (py) {
    const p = summarize(py.platformLatency).p50;
    const b = summarize(py.baselineLatency).p50;
    lines.push(`- container e2e p50 within 1.5× a bare \`docker run --rm\`: **${p <= 1.5 * b ? 'met' : 'missed'}** (${ms(p)} ms vs ${ms(b)} ms, ${ratio(p, b)})`);
  }
  return lines.join('\n');
}

function breakdown(samples: TimedEvaluation[]): Record<'admit' | 'queue' | 'run' | 'program' | 'reply', Summary> {
  const t = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
  const series = (f: (s: TimedEvaluation) => number): Summary => {
    const xs = samples.map(f).filter((x) => Number.isFinite(x));
    // A milestone the platform did not stamp shows as "n/a" rather than failing the whole report.
    return xs.length > 0 ? summarize(xs) : { n: 0, p50: NaN, p95: NaN, mean: NaN, min: NaN, max: NaN };
  };
  return {
    admit: series((s) => t(s.evaluation.createdAt) - s.sentAt),
    queue: series((s) => t(s.evaluation.startedAt) - t(s.evaluation.createdAt)),
    run: series((s) => t(s.evaluation.finishedAt) - t(s.evaluation.startedAt)),
    program: series((s) => s.evaluation.durationMs ?? NaN),
    reply: series((s) => s.receivedAt - t(s.evaluation.finishedAt)),
  };
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x < 10 ? x.toFixed(1) : Math.round(x).toString();
}

function ratio(platform: number, baseline: number): string {
  return `${(platform / baseline).toFixed(2)}×`;
}
