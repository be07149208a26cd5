/** Helpers of the collector's tests: agents' reports and facts read back from Redis. Not a test file itself. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentReport } from '@crucible/executor-agent/protocol';
import type { RunResult } from '@crucible/storage/domain';
import { reportRejections } from '../src/metrics.js';
import type { Fixture } from './fixtures.js';

/** Waits for a fact the platform reports; the bound is a safety net for a hung run, not a speed claim. */
export async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

export const result = (stdout: string, overrides: Partial<RunResult> = {}): RunResult => ({
  outcome: 'success', exitCode: 0, signal: null, stdout, stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 3, ...overrides,
});

/** A whole run's reports, as an agent writes them. */
export function run(evaluationId: string, stdout: string, overrides: Partial<RunResult> = {}): AgentReport[] {
  return [
    { type: 'status', status: 'running', evaluationId, agentId: 'a' },
    { type: 'output', stream: 'stdout', data: stdout, evaluationId, agentId: 'a' },
    { type: 'result', evaluationId, agentId: 'a', result: result(stdout, overrides) },
  ];
}

export async function rejections(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await reportRejections.get()).values) out[String(v.labels.action)] = v.value;
  return out;
}

export const pending = async (f: Pick<Fixture, 'redis' | 'keys'>) => ((await f.redis.xpending(f.keys.reports, f.keys.reportsGroup)) as [number])[0];

/** Interleaves several runs' reports, as concurrent agents would, keeping each run's own order. */
export function interleave(runs: AgentReport[][]): AgentReport[] {
  const out: AgentReport[] = [];
  for (let i = 0; runs.some((r) => i < r.length); i++) for (const r of runs) if (i < r.length) out.push(r[i]!);
  return out;
}

