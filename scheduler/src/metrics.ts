import { Counter, Gauge, Histogram } from 'prom-client';
import { KNOWN_LANGUAGES } from '@crucible/executor-agent/protocol';
import { OUTCOMES, RUNTIME_KINDS } from '@crucible/storage/domain';

/**
 * Sets every known label set of a labelled counter to 0, so each series exists from the start:
 * a rate over it is 0 rather than absent, dashboards show 0 rather than "no data", and an alert
 * sees the first event of a burst (Prometheus practice; issue 12). `sets` are the label values
 * known where the metric is defined, listed once there.
 */
export function initialiseAtZero<L extends string>(
  metric: { inc(labels: Partial<Record<L, string>>, value: number): void } | { zero(labels: Partial<Record<L, string>>): void },
  sets: Iterable<Partial<Record<L, string>>>,
): void {
  for (const labels of sets) {
    if ('zero' in metric) metric.zero(labels); // a histogram: every bucket, sum and count at 0
    else metric.inc(labels, 0);
  }
}

/** Every combination of the given label values: `{a: [1, 2], b: [x]}` → `{a: 1, b: x}, {a: 2, b: x}`. */
export function labelSets<L extends string>(values: Record<L, readonly string[]>): Record<L, string>[] {
  return (Object.entries(values) as [L, readonly string[]][]).reduce<Record<L, string>[]>(
    (sets, [label, vs]) => sets.flatMap((set) => vs.map((v) => ({ ...set, [label]: v }))),
    [{} as Record<L, string>],
  );
}

/** Scheduler-side metrics, on prom-client's default registry (served by the gateway's /metrics). */
export const evaluationsFinished = new Counter({
  name: 'crucible_evaluations_finished_total',
  help: 'Evaluations that reached a terminal status, by language, runtime, status and outcome.',
  labelNames: ['language', 'runtime', 'status', 'outcome'] as const,
});
// Each language under its runtime: completed with any outcome, cancelled (killed), failed (none).
initialiseAtZero(
  evaluationsFinished,
  KNOWN_LANGUAGES.flatMap(({ id: language, runtime }) => [
    ...OUTCOMES.map((outcome) => ({ language, runtime, status: 'completed', outcome })),
    { language, runtime, status: 'cancelled', outcome: 'killed' },
    { language, runtime, status: 'failed', outcome: 'none' },
  ]),
);

export const runDuration = new Histogram({
  name: 'crucible_evaluation_run_duration_seconds',
  help: 'Time programs ran in their sandbox.',
  labelNames: ['runtime'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});
initialiseAtZero(runDuration, labelSets({ runtime: RUNTIME_KINDS }));

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const queueWait = new Histogram({
  name: 'crucible_evaluation_queue_wait_seconds',
  help: 'Time from acceptance until an agent started the evaluation.',
  labelNames: ['runtime'] as const,
  buckets: latencyBuckets,
});
initialiseAtZero(queueWait, labelSets({ runtime: RUNTIME_KINDS }));

export const endToEnd = new Histogram({
  name: 'crucible_evaluation_e2e_duration_seconds',
  help: 'Time from acceptance until the evaluation was terminal.',
  labelNames: ['runtime'] as const,
  buckets: latencyBuckets,
});
initialiseAtZero(endToEnd, labelSets({ runtime: RUNTIME_KINDS }));

export const sandboxStart = new Histogram({
  name: 'crucible_sandbox_start_duration_seconds',
  help: 'Time an agent took from picking a task to the program running (container create and start).',
  labelNames: ['runtime'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5],
});
initialiseAtZero(sandboxStart, labelSets({ runtime: RUNTIME_KINDS }));

export const limitKills = new Counter({
  name: 'crucible_sandbox_limit_kills_total',
  help: 'Programs ended by a sandbox limit or a kill, by kind (memory, pids, timeout, output, killed).',
  labelNames: ['kind'] as const,
});

/** Outcomes that mean the sandbox stopped the program, and the kill kind each is counted as. */
export const KILL_KINDS: Partial<Record<string, string>> = {
  memory_limit: 'memory',
  timeout: 'timeout',
  output_limit: 'output',
  killed: 'killed',
};
initialiseAtZero(limitKills, labelSets({ kind: [...Object.values(KILL_KINDS as Record<string, string>), 'pids'] }));

/**
 * The limit that stopped a run, if any. A program that ran into its pids limit and did not succeed
 * counts as `pids` whatever ended it: a contained fork bomb usually ends at its deadline or in an
 * error, and the outcome alone cannot tell that from an ordinary timeout.
 */
export function killKind(r: { outcome: string; pidsLimitHit?: boolean }): string | undefined {
  if (r.pidsLimitHit && r.outcome !== 'success') return 'pids';
  return KILL_KINDS[r.outcome];
}

export const taskRetries = new Counter({
  name: 'crucible_task_retries_total',
  help: 'Tasks handed back to the queue for another attempt, by reason: fault (platform fault), lost (agent died mid-run), reconciled (Redis lost it).',
  labelNames: ['reason'] as const,
});
initialiseAtZero(taskRetries, labelSets({ reason: ['fault', 'lost', 'reconciled'] }));

export const platformFaults = new Counter({
  name: 'crucible_platform_faults_total',
  help: 'Platform faults reported by agents, by whether the task was retried.',
  labelNames: ['retrying'] as const,
});
initialiseAtZero(platformFaults, labelSets({ retrying: ['true', 'false'] }));


export const scalingDecisions = new Counter({
  name: 'crucible_scaling_decisions_total',
  help: 'Scaling decisions that started (up) or retired (down) agents, by pool.',
  labelNames: ['pool', 'direction'] as const,
});

/** A pool's series of the scaling metrics, at zero from the moment the pool exists (pools come from configuration). */
export function initialisePoolMetrics(pool: string): void {
  initialiseAtZero(scalingDecisions, labelSets({ pool: [pool], direction: ['up', 'down'] }));
}

export const scalingDesired = new Gauge({
  name: 'crucible_scaling_desired_agents',
  help: 'Agents the last scaling decision wanted, by pool.',
  labelNames: ['pool'] as const,
});

export const reportRejections = new Counter({
  name: 'crucible_report_rejections_total',
  help: 'Reports storage refused (not an outage), by what the collector did: retried, dead_lettered (its evaluation failed), dropped (failing it was refused too).',
  labelNames: ['action'] as const,
});
for (const action of ['retried', 'dead_lettered', 'dropped']) reportRejections.inc({ action }, 0);

export const overdueFailed = new Counter({
  name: 'crucible_overdue_evaluations_total',
  help: 'Evaluations the overdue sweeper ended failed because they were still unfinished past their deadline plus the grace, by the status they were stuck in.',
  labelNames: ['status'] as const,
});
for (const status of ['provisioning', 'running']) overdueFailed.inc({ status }, 0);

export const oldestUnfinishedAge = new Gauge({
  name: 'crucible_oldest_unfinished_evaluation_age_seconds',
  help: 'Seconds the longest-waiting evaluation of each unfinished status has been in it (since its last status change); 0 when there is none. Set by the overdue sweeper every pass.',
  labelNames: ['status'] as const,
});
for (const status of ['queued', 'provisioning', 'running']) oldestUnfinishedAge.set({ status }, 0);
