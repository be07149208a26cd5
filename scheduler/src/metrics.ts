import { Counter, Histogram } from 'prom-client';

/** Scheduler-side metrics, on prom-client's default registry (served by the gateway's /metrics). */
export const evaluationsFinished = new Counter({
  name: 'crucible_evaluations_finished_total',
  help: 'Evaluations that reached a terminal status, by language, runtime, status and outcome.',
  labelNames: ['language', 'runtime', 'status', 'outcome'] as const,
});

export const runDuration = new Histogram({
  name: 'crucible_evaluation_run_duration_seconds',
  help: 'Time programs ran in their sandbox.',
  labelNames: ['runtime'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
});

export const platformFaults = new Counter({
  name: 'crucible_platform_faults_total',
  help: 'Platform faults reported by agents, by whether the task was retried.',
  labelNames: ['retrying'] as const,
});
