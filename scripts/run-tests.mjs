#!/usr/bin/env node
// Runs every package's tests with Node's test runner. Node 20's --test takes no globs, so the
// files are found here. Files run one at a time: they share one Docker engine, Redis and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const packages = ['storage', 'executor-agent', 'scheduler', 'gateway', 'dashboards'];
const only = process.argv.slice(2);

function testFiles(dir) {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = packages
  .flatMap((p) => testFiles(join(p, 'test')))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  // --test-force-exit: a handle leaked by one file must fail loudly in its own tests, not hang CI.
  ['--import', 'tsx', '--conditions=source', '--test', '--test-force-exit', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
