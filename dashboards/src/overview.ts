import { dashboard, quantiles, stat, timeseries } from './panels.js';

// The latency SLO, also in rules/crucible.rules.yml: 99 % of evaluations finish within 30 s.
const SLO_SECONDS = 30;
const ERROR_BUDGET = 0.01;
const E2E = 'crucible_evaluation_e2e_duration_seconds';
// "30" from prom-client, "30.0" once Prometheus 3 normalises classic histogram bounds.
const WITHIN_SLO = `${E2E}_bucket{le=~"${SLO_SECONDS}(\\\\.0)?"}`;
const withinRatio = `sum(increase(${WITHIN_SLO}[$__range])) / sum(increase(${E2E}_count[$__range]))`;

/** Overview: is Crucible doing its job (throughput, latency, outcomes, SLO budget)? */
export function overview() {
  return dashboard('crucible-overview', 'Crucible / Overview', 'Throughput, end-to-end latency, outcomes and the latency SLO.')
    .withPanel(
      stat({
        title: `Finished within ${SLO_SECONDS} s`,
        description: `Share of evaluations over the selected range that went from accepted to terminal within ${SLO_SECONDS} s. SLO: ${100 - ERROR_BUDGET * 100} %.`,
        unit: 'percentunit',
        queries: [{ expr: withinRatio }],
      }),
    )
    .withPanel(
      stat({
        title: 'Error budget remaining',
        description: `1 − (slow share ÷ ${ERROR_BUDGET}) over the selected range: 100 % is untouched, below 0 % the SLO is missed. Use a 30-day range for the monthly budget.`,
        unit: 'percentunit',
        queries: [{ expr: `1 - (1 - ${withinRatio}) / ${ERROR_BUDGET}` }],
      }),
    )
    .withPanel(
      stat({
        title: 'Evaluations accepted',
        description: 'Evaluations accepted by the API over the selected range.',
        unit: 'short',
        queries: [{ expr: 'sum(increase(crucible_evaluations_accepted_total[$__range]))' }],
      }),
    )
    .withPanel(
      stat({
        title: 'Running versions',
        description: 'Gateway processes per version (crucible_build_info); more than one version means a rollout is under way.',
        unit: 'short',
        queries: [{ expr: 'count by (version) (crucible_build_info)', legend: '{{version}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Throughput',
        description: 'Evaluations accepted and finished per second; finished lagging accepted means the queue grows.',
        unit: 'ops',
        queries: [
          { expr: 'sum(rate(crucible_evaluations_accepted_total[$__rate_interval]))', legend: 'accepted' },
          { expr: 'sum(rate(crucible_evaluations_finished_total[$__rate_interval]))', legend: 'finished' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'End-to-end latency',
        description: `Accepted → terminal, p50/p95/p99 over every runtime. The SLO line is ${SLO_SECONDS} s at p99.`,
        unit: 's',
        queries: quantiles(E2E),
      }),
    )
    .withPanel(
      timeseries({
        title: 'Outcomes',
        description: 'Finished evaluations per second by status and outcome (success, error = the program failed, timeout, memory_limit, output_limit, killed; none when the platform failed or it was cancelled).',
        unit: 'ops',
        stacked: true,
        queries: [
          { expr: 'sum by (status, outcome) (rate(crucible_evaluations_finished_total[$__rate_interval]))', legend: '{{status}} {{outcome}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'SLO burn rate',
        description: 'How many times faster than sustainable the error budget is spent (1 = exactly on budget), from the recording rules. The fast-burn alert fires above 14.4 on both the 1 h and 5 m windows; the slow one above 6 on 6 h and 30 m.',
        unit: 'short',
        queries: ['5m', '30m', '1h', '6h'].map((w) => ({ expr: `crucible:e2e_slow:ratio_rate${w} / ${ERROR_BUDGET}`, legend: w })),
      }),
    )
    .build();
}
