import { spawnSync } from 'node:child_process';
import { dashboards, render } from '../src/index.js';

/** Runs promtool; throws (never skips) when it is missing, with how to get it. */
export function promtool(...args: string[]): { status: number | null; output: string } {
  const res = spawnSync('promtool', args, { encoding: 'utf8' });
  if (res.error) {
    throw new Error(`promtool could not run (${res.error.message}): install Debian's "prometheus" package (./crucible test does it as root)`);
  }
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** Every PromQL expression of every generated dashboard, with where it comes from. */
export function dashboardExpressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const [name, build] of Object.entries(dashboards)) {
    const d = JSON.parse(render(build)) as { panels: { title: string; targets: { expr: string; refId: string }[] }[] };
    for (const p of d.panels) for (const t of p.targets) out.push({ where: `${name} / ${p.title} / ${t.refId}`, expr: t.expr });
  }
  return out;
}

/** Grafana's variables replaced by values Prometheus accepts, so a dashboard query can run as is. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$__interval', '15s');
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * The metric names an expression selects. PromQL metric names are the identifiers left once
 * strings, label matchers, ranges and grouping label lists are removed, that are neither a
 * function or aggregation (followed by `(`) nor a keyword. Numbers and durations (`10m`) are
 * consumed whole so `1e3` or `5m` never yield names.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(\d[\w.]*(?:e[+-]?\d+)?)|([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, number, name, call] = m;
    if (number !== undefined || call !== undefined || name === undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}
