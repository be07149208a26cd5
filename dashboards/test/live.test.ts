// A real Prometheus scraping a real platform after real evaluations: every dashboard and rule
// expression must parse and select only metrics that exist. Catches renamed or missing metrics,
// which promtool's offline checks cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
// A test helper of another package, acceptable for tests only: it starts the platform as `up` does.
import { Platform } from '../../gateway/test/platform.js';
import { dashboardExpressions, metricNames, withoutGrafanaVariables } from './promql.js';

const PROMETHEUS = '/usr/bin/prometheus';
const RULES = join(import.meta.dirname, '../rules/crucible.rules.yml');


async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('every dashboard and rule expression runs against Prometheus scraping a live platform', { timeout: 240_000 }, async (t) => {
  assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: install Debian's "prometheus" package (./crucible test does it as root)`);
  // A tiny budget for failed authentications, so the 429 path runs too (its series exist from the start).
  await using p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_RATE_AUTH_BURST: '2', CRUCIBLE_RATE_AUTH_PER_SECOND: '0.01' } });
  const target = new URL(p.url).host;

  const dir = mkdtempSync(join(tmpdir(), 'crucible-prometheus-'));
  let prometheus: ChildProcess | undefined;
  t.after(async () => {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // The job name matches the alerts' `job=~"crucible.*"`; rules are loaded so recorded series exist.
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(RULES)}]
scrape_configs:
  - job_name: crucible-gateway
    static_configs: [{ targets: [${JSON.stringify(target)}] }]
`,
  );
  const port = await freePort();
  const prom = `http://127.0.0.1:${port}`;
  const log = join(dir, 'prometheus.log');
  const logFd = openSync(log, 'w');
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', logFd, logFd] },
  );
  prometheus.once('exit', (code) => code && console.error(readFileSync(log, 'utf8')));
  await until('Prometheus to be ready', 30_000, async () => ((await fetch(`${prom}/-/ready`)).ok ? true : undefined));

  const api = async (path: string, params: Record<string, string> = {}) => {
    const res = await fetch(`${prom}/api/v1/${path}?${new URLSearchParams(params)}`);
    return (await res.json()) as { status: string; error?: string; data: any };
  };

  await p.waitForLanguage('python');
  await p.waitForLanguage('javascript');

  // Issue 12: every series a dashboard or rule selects exists on a freshly started platform,
  // before any evaluation, failed authentication or 429 (labelled counters start at zero), so
  // panels show 0 rather than "no data" and rate-based alerts see the first event of a burst.
  // Recording rules' own series (names with ':') are judged after the runs, below.
  const readyAt = Date.now() / 1000;
  await until('a scrape of the fresh platform', 30_000, async () => {
    const r = await api('query', { query: 'timestamp(up{job="crucible-gateway"})' });
    return Number(r.data.result[0]?.value[1]) > readyAt ? true : undefined;
  });
  const ruleExpressions = async () =>
    (await api('rules')).data.groups.flatMap((g: { name: string; rules: { name: string; query: string; health: string; lastError?: string }[] }) =>
      g.rules.map((r) => ({ where: `rule ${g.name} / ${r.name}`, expr: r.query, health: r.health, lastError: r.lastError })),
    ) as { where: string; expr: string; health: string; lastError?: string }[];
  const freshNames = new Set<string>((await api('label/__name__/values')).data);
  const missingWhenFresh: string[] = [];
  for (const { where, expr } of [...dashboardExpressions(), ...(await ruleExpressions())]) {
    for (const name of metricNames(expr)) {
      if (!name.includes(':') && !freshNames.has(name)) missingWhenFresh.push(`${where}: ${name} has no series on a fresh platform`);
    }
  }
  assert.deepEqual(missingWhenFresh, []);

  const runs: [string, Record<string, unknown>][] = [
    ['success', { language: 'python', code: 'print(6*7)' }],
    ['error', { language: 'python', code: 'raise SystemExit(3)' }],
    ['timeout', { language: 'python', code: 'import time\ntime.sleep(60)', limits: { timeoutMs: 1500 } }],
    ['memory_limit', { language: 'python', code: 'x=[]\nwhile True: x.append(bytearray(1<<20))', limits: { memoryMb: 64 } }],
    // A contained fork bomb: ends at its deadline, counted as a pids kill.
    ['timeout', { language: 'python', code: 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass', limits: { pids: 16, timeoutMs: 1500 } }],
    ['success', { language: 'javascript', code: 'console.log(6 * 7)' }],
    ['error', { language: 'javascript', code: 'throw new Error("no")' }],
    ['timeout', { language: 'javascript', code: 'while (true) {}', limits: { timeoutMs: 500 } }],
  ];
  for (const [outcome, body] of runs) {
    const e = await p.run(body);
    assert.equal(e.outcome, outcome, JSON.stringify(e));
  }
  await p.request('GET', '/v1/nothing-here'); // an unmatched route, for the API dashboard
  // Refused credentials, then the per-address auth budget running out: the security panels' series.
  const wrongKey = { authorization: `Bearer crk_${'0'.repeat(43)}` };
  const refused = [];
  for (let i = 0; i < 4; i++) refused.push((await p.request('GET', '/v1/evaluations', undefined, wrongKey)).status);
  assert.ok(refused.includes(401) && refused.includes(429), `expected 401s then a 429: ${refused}`);
  const ranAt = Date.now() / 1000;

  // A scrape after the runs, which must have counted the three limit kinds; then the recording rules.
  await until('a scrape after the runs', 30_000, async () => {
    const r = await api('query', { query: 'timestamp(up{job="crucible-gateway"})' });
    return Number(r.data.result[0]?.value[1]) > ranAt ? true : undefined;
  });
  const kinds = await api('query', { query: 'crucible_sandbox_limit_kills_total{kind=~"memory|pids|timeout"} > 0' });
  assert.deepEqual(kinds.data.result.map((r: { metric: { kind: string } }) => r.metric.kind).sort(), ['memory', 'pids', 'timeout']);
  await until('the recording rules to run', 30_000, async () => {
    const r = await api('query', { query: 'crucible:e2e_slow:ratio_rate5m' });
    return r.data.result.length > 0 ? true : undefined;
  });

  const names = new Set<string>((await api('label/__name__/values')).data);
  const exposition = await (await fetch(`${p.url}/metrics`)).text();
  const declared = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap(([, n, type]) =>
    type === 'histogram' ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n!],
  ));

  const rules = await ruleExpressions();
  assert.ok(rules.length >= 12, `rules not loaded: ${JSON.stringify(rules)}`);
  for (const r of rules) assert.equal(r.health, 'ok', `${r.where}: ${r.lastError}`);

  const problems: string[] = [];
  for (const { where, expr } of [...dashboardExpressions(), ...rules]) {
    const res = await api('query', { query: withoutGrafanaVariables(expr) });
    if (res.status !== 'success') problems.push(`${where}: ${res.error}\n  ${expr}`);
    const used = metricNames(expr);
    if (used.length === 0) problems.push(`${where}: no metric found in ${expr}`);
    for (const name of used) {
      if (names.has(name)) continue;
      problems.push(`${where}: ${name} is not in Prometheus${declared.has(name) ? ' (declared on /metrics, but no series yet)' : ''}`);
    }
  }
  assert.deepEqual(problems, []);
});
