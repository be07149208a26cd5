import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dashboards, render } from '../src/index.js';
import { metricNames } from './promql.js';

const GENERATED = join(import.meta.dirname, '../generated');

test('the committed JSON is what the TypeScript generates', () => {
  assert.deepEqual(readdirSync(GENERATED).sort(), Object.keys(dashboards).map((n) => `${n}.json`).sort(), 'stray or missing files');
  for (const [name, build] of Object.entries(dashboards)) {
    const committed = readFileSync(join(GENERATED, `${name}.json`), 'utf8');
    assert.ok(committed === render(build), `generated/${name}.json is stale: run \`npm run generate -w dashboards\` and commit it`);
  }
});

interface Target { refId?: string; expr?: string; datasource?: { type?: string; uid?: string } }
interface Panel { id?: number; title: string; datasource?: { type?: string; uid?: string }; fieldConfig?: { defaults?: { unit?: string } }; targets?: Target[] }

for (const [name, build] of Object.entries(dashboards)) {
  test(`${name}: a datasource variable, and every panel uses it, has a unit and refIds`, () => {
    const d = JSON.parse(render(build)) as { uid: string; templating: { list: { type: string; name: string; query: string }[] }; panels: Panel[] };
    assert.ok(d.uid.startsWith('crucible-'));
    const v = d.templating.list.find((x) => x.name === 'datasource');
    assert.deepEqual(v && { type: v.type, query: v.query }, { type: 'datasource', query: 'prometheus' });
    assert.ok(d.panels.length > 0);
    for (const p of d.panels) {
      const where = `${name} / ${p.title}`;
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, where);
      assert.ok(p.fieldConfig?.defaults?.unit, `${where}: no unit`);
      assert.ok(p.targets && p.targets.length > 0, `${where}: no targets`);
      const refIds = p.targets.map((t) => t.refId);
      assert.ok(refIds.every((r) => r), `${where}: a target without refId`);
      assert.equal(new Set(refIds).size, refIds.length, `${where}: duplicate refIds`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, { type: 'prometheus', uid: '${datasource}' }, where);
        assert.ok(t.expr && metricNames(t.expr).length > 0, `${where}: ${t.expr} selects no metric`);
      }
    }
    assert.deepEqual(d.panels.map((p) => p.id), d.panels.map((_, i) => i + 1));
  });
}

test('metricNames finds selectors, not functions, labels, keywords or durations', () => {
  assert.deepEqual(
    metricNames('histogram_quantile(0.95, sum by (le, route) (rate(crucible_http_request_duration_seconds_bucket{status=~"5.."}[5m])))'),
    ['crucible_http_request_duration_seconds_bucket'],
  );
  assert.deepEqual(
    metricNames('sum(a_total) > sum(a_total offset 10m) and on() sum without (lane) (b) <= 1e3 or absent(c{job="x"}) unless d:rec:rate5m'),
    ['a_total', 'b', 'c', 'd:rec:rate5m'],
  );
  assert.deepEqual(metricNames('sum(rate(x[5m])) by (job) / count(up) bool == 0'), ['up', 'x']);
});
