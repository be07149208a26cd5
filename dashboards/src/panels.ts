import { DashboardBuilder, DatasourceVariableBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import {
  LegendDisplayMode,
  LegendPlacement,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';

/**
 * Panels point at the dashboard's `datasource` variable, never at a fixed uid, so the same JSON
 * imports into any Grafana whatever its Prometheus data source is called.
 */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** One PromQL target; `legend` uses Grafana's `{{label}}` syntax. */
export interface Query {
  expr: string;
  legend?: string;
}

/** The common fields of every panel: a title, what it shows, its unit and its queries. */
export interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id (https://grafana.com/docs/grafana/latest/panels-visualizations/configure-standard-options/#unit). */
  unit: string;
  queries: Query[];
  width?: number;
}

function targets(queries: Query[]) {
  // refIds A, B, C… as Grafana's editor assigns them: alert rules and overrides refer to them.
  return queries.map((q, i) => {
    const t = new DataqueryBuilder().datasource(DATASOURCE).expr(q.expr).refId(String.fromCharCode(65 + i));
    return q.legend === undefined ? t : t.legendFormat(q.legend);
  });
}

export function timeseries(spec: PanelSpec & { stacked?: boolean }) {
  const p = new TimeseriesBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .targets(targets(spec.queries))
    .height(8)
    .span(spec.width ?? 12)
    .fillOpacity(10)
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  return spec.stacked ? p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)) : p;
}

export function stat(spec: PanelSpec) {
  return new StatBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .targets(targets(spec.queries))
    .height(5)
    .span(spec.width ?? 6);
}

/** p50/p95/p99 of a Prometheus histogram, summed over every other label. */
export function quantiles(histogram: string, by = ''): Query[] {
  const keys = by ? `le, ${by}` : 'le';
  const suffix = by ? ` {{${by}}}` : '';
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${keys}) (rate(${histogram}_bucket[$__rate_interval])))`,
    legend: `p${q * 100}${suffix}`,
  }));
}

/** A dashboard with the Prometheus data source variable every panel refers to. */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['crucible'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'));
}

export type { Dashboard };
