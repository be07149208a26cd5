import { dashboard, quantiles, stat, timeseries } from './panels.js';

const kills = (kind: string) => `sum(increase(crucible_sandbox_limit_kills_total{kind="${kind}"}[$__range]))`;

/**
 * Sandbox and security: what the sandboxes had to stop, whether they still work, and who is
 * knocking at the API (authentication failures and rate-limit rejections).
 */
export function sandbox() {
  return dashboard('crucible-sandbox', 'Crucible / Sandbox and security', 'Limit kills, sandbox start and run times, and the per-language sandbox self-test.')
    .withPanel(stat({ title: 'Timeouts', description: 'Programs stopped at their wall-clock deadline over the selected range.', unit: 'short', queries: [{ expr: kills('timeout') }] }))
    .withPanel(stat({ title: 'Out of memory', description: 'Programs stopped at their memory limit over the selected range.', unit: 'short', queries: [{ expr: kills('memory') }] }))
    .withPanel(stat({ title: 'Output limit', description: 'Programs stopped for writing more than their output cap over the selected range.', unit: 'short', queries: [{ expr: kills('output') }] }))
    .withPanel(stat({ title: 'Pids limit', description: 'Programs that ran into their process limit (a fork refused) and did not succeed, e.g. a contained fork bomb, over the selected range.', unit: 'short', queries: [{ expr: kills('pids') }] }))
    .withPanel(stat({ title: 'Killed', description: 'Programs killed (cancelled while running, or by a signal) over the selected range.', unit: 'short', queries: [{ expr: kills('killed') }] }))
    .withPanel(
      timeseries({
        title: 'Limit kills by kind',
        description: 'Programs the sandbox stopped per second, by kind. A jump in one kind with no change in traffic is worth a look at what is being submitted.',
        unit: 'ops',
        stacked: true,
        queries: [{ expr: 'sum by (kind) (rate(crucible_sandbox_limit_kills_total[$__rate_interval]))', legend: '{{kind}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Share of evaluations stopped by a limit',
        description: 'Limit kills ÷ finished evaluations.',
        unit: 'percentunit',
        queries: [
          {
            expr: 'sum(rate(crucible_sandbox_limit_kills_total[$__rate_interval])) / sum(rate(crucible_evaluations_finished_total[$__rate_interval]))',
            legend: 'stopped by a limit',
          },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sandbox start',
        description: 'Agent picked the task → program running (container create and start; Wasm instantiation), p50/p95/p99 by runtime.',
        unit: 's',
        queries: quantiles('crucible_sandbox_start_duration_seconds', 'runtime'),
      }),
    )
    .withPanel(
      timeseries({
        title: 'Program run time',
        description: 'Time programs ran in their sandbox, p50/p95/p99 by runtime.',
        unit: 's',
        queries: quantiles('crucible_evaluation_run_duration_seconds', 'runtime'),
      }),
    )
    .withPanel(
      timeseries({
        title: 'Authentication failures by reason',
        description:
          'Requests refused for their credential, per second, by reason (missing, malformed, invalid or revoked key, invalid or expired token, invalid refresh token, refresh reuse). A spike is the CrucibleAuthFailureSpike alert: someone is guessing or replaying credentials.',
        unit: 'reqps',
        stacked: true,
        queries: [{ expr: 'sum by (reason) (rate(crucible_auth_failures_total[$__rate_interval]))', legend: '{{reason}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Rate-limited requests by budget',
        description: 'Requests answered 429 per second, by budget (submit, read, failed authentications per address, concurrent evaluations). Steady rejections mean a client needs a higher budget or is misbehaving.',
        unit: 'reqps',
        stacked: true,
        queries: [{ expr: 'sum by (budget) (rate(crucible_rate_limited_requests_total[$__rate_interval]))', legend: '{{budget}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Sandbox self-test',
        description: 'Per language: 1 when agents report it runnable (its smoke test passes), 0 when not. 0 for 5 minutes is the CrucibleLanguageUnavailable alert.',
        unit: 'bool_yes_no',
        queries: [{ expr: 'min by (language, runtime) (crucible_language_available)', legend: '{{language}} ({{runtime}})' }],
        width: 24,
      }),
    )
    .build();
}
