import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promtool } from './promql.js';

const DIR = join(import.meta.dirname, '..');
const RULES = join(DIR, 'rules/crucible.rules.yml');

test('promtool check rules accepts the rules', () => {
  const res = promtool('check', 'rules', RULES);
  assert.equal(res.status, 0, res.output);
});

test('promtool test rules: every alert fires when it should and not when it should not', () => {
  const res = promtool('test', 'rules', join(DIR, 'rules/tests/crucible.test.yml'));
  assert.equal(res.status, 0, res.output);
});

test('every alert has a test and a runbook section in the README', () => {
  const rules = readFileSync(RULES, 'utf8');
  const tests = readFileSync(join(DIR, 'rules/tests/crucible.test.yml'), 'utf8');
  // GitHub's heading anchors: lower case, spaces to dashes.
  const anchors = new Set(
    [...readFileSync(join(DIR, 'README.md'), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\- ]/g, '').replaceAll(' ', '-')),
  );
  const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  assert.ok(alerts.length >= 7);
  for (const alert of alerts) {
    assert.match(tests, new RegExp(`alertname: ${alert}\\b`), `${alert} has no promtool test`);
    assert.ok(anchors.has(alert.toLowerCase()), `${alert} has no "### ${alert}" runbook section in README.md`);
  }
  for (const m of rules.matchAll(/runbook: dashboards\/README\.md#(\S+)/g)) assert.ok(anchors.has(m[1]!), `dead runbook link #${m[1]}`);
});
