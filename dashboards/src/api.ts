import { dashboard, quantiles, stat, timeseries } from './panels.js';

const HTTP = 'crucible_http_request_duration_seconds';
const share = (status: string) =>
  `sum(rate(${HTTP}_count{status=~"${status}"}[$__rate_interval])) / sum(rate(${HTTP}_count[$__rate_interval]))`;

/** API: the gateway's HTTP traffic, errors and latency, and the gateway process itself. */
export function api() {
  return dashboard('crucible-api', 'Crucible / API', 'HTTP requests to the gateway by route, status and latency, and the gateway process.')
    .withPanel(stat({ title: 'Requests', description: 'HTTP requests over the selected range.', unit: 'short', queries: [{ expr: `sum(increase(${HTTP}_count[$__range]))` }] }))
    .withPanel(
      stat({
        title: '5xx share',
        description: 'Share of requests answered with a server error over the selected range.',
        unit: 'percentunit',
        queries: [{ expr: `sum(increase(${HTTP}_count{status=~"5.."}[$__range])) / sum(increase(${HTTP}_count[$__range]))` }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Requests by route',
        description: 'Requests per second by route pattern and method (unmatched = no route).',
        unit: 'reqps',
        queries: [{ expr: `sum by (route, method) (rate(${HTTP}_count[$__rate_interval]))`, legend: '{{method}} {{route}}' }],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Error shares',
        description: '4xx (client mistakes: validation, not found, body too large) and 5xx (gateway faults) as shares of all requests.',
        unit: 'percentunit',
        queries: [
          { expr: share('4..'), legend: '4xx' },
          { expr: share('5..'), legend: '5xx' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Latency',
        description: 'Request duration p50/p95/p99 over every route. Long-polls (?wait=) and SSE streams are slow by design; see the per-route panel.',
        unit: 's',
        queries: quantiles(HTTP),
      }),
    )
    .withPanel(
      timeseries({
        title: 'p95 latency by route',
        description: 'Request duration p95 per route pattern.',
        unit: 's',
        queries: [
          { expr: `histogram_quantile(0.95, sum by (le, route) (rate(${HTTP}_bucket[$__rate_interval])))`, legend: '{{route}}' },
        ],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Gateway CPU',
        description: 'CPU seconds per second of the gateway process (1 = one core); it also runs the embedded scheduler.',
        unit: 'percentunit',
        queries: [{ expr: 'sum by (instance) (rate(process_cpu_seconds_total{job=~"crucible.*"}[$__rate_interval]))', legend: '{{instance}}' }],
        width: 8,
      }),
    )
    .withPanel(
      timeseries({
        title: 'Gateway memory',
        description: 'Resident memory and V8 heap in use of the gateway process.',
        unit: 'bytes',
        queries: [
          { expr: 'sum by (instance) (process_resident_memory_bytes{job=~"crucible.*"})', legend: 'rss {{instance}}' },
          { expr: 'sum by (instance) (nodejs_heap_size_used_bytes{job=~"crucible.*"})', legend: 'heap {{instance}}' },
        ],
        width: 8,
      }),
    )
    .withPanel(
      timeseries({
        title: 'Event-loop lag',
        description: 'p99 event-loop delay of the gateway process: above ~100 ms every request and SSE stream is delayed.',
        unit: 's',
        queries: [{ expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds{job=~"crucible.*"})', legend: '{{instance}}' }],
        width: 8,
      }),
    )
    .build();
}
