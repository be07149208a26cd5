#!/usr/bin/env node
// Runs every package's tests with Node's test runner, one file per process and one file at a time
// (they share one Docker engine, Redis and PostgreSQL). Node 20's --test takes no globs, so the
// files are found here (scripts/test-runner/discover.mjs).
//
//   node scripts/run-tests.mjs [--root DIR] [SUBSTRING...]   only files whose path contains one
//
// A file fails when its process exits non-zero (a failed test, or an assertion after its last
// test), or when it stays alive after its tests ended (a leaked handle) or past its timeout: both
// name the handles still open. With CI=true it also fails on a file with no test, on a skipped or
// todo test not listed with its reason in tests/allowed-skips.json, and on a package without a
// test/ folder; elsewhere those are printed as warnings. The counts are printed at the end.
import { resolve } from 'node:path';
import { discover } from './test-runner/discover.mjs';
import { allowed, loadAllowlist } from './test-runner/allowlist.mjs';
import { runFile } from './test-runner/run-file.mjs';

const args = process.argv.slice(2);
let root = process.cwd();
const only = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--root') root = resolve(args[(i += 1)]);
  else only.push(args[i]);
}
const ci = process.env.CI === 'true' || process.env.CI === '1';
const ms = (name, fallback) => Number(process.env[name] ?? fallback);
// Generous: a file's root after() hooks (stopping containers, servers) run after its last test.
const leakGraceMs = ms('CRUCIBLE_TEST_LEAK_GRACE_MS', 60_000);
const timeoutMs = ms('CRUCIBLE_TEST_FILE_TIMEOUT_MS', 30 * 60_000);

const { files: all, missingTestDirs } = discover(root);
const files = all.filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const allowlistPath = resolve(root, 'tests/allowed-skips.json');
const allowlist = loadAllowlist(allowlistPath);

const problems = []; // fail the run
const warnings = []; // fail it in CI
for (const dir of missingTestDirs) warnings.push(`package without a test folder: ${dir}`);
const results = [];
for (const [i, file] of files.entries()) {
  console.log(`\n━━ ${file} (${i + 1}/${files.length})`);
  const r = await runFile(root, file, { leakGraceMs, timeoutMs });
  results.push(r);
  if (r.hung) {
    const what = r.hung.reason === 'leak'
      ? `its tests ended but its process was still alive ${leakGraceMs} ms later (leaked handles)`
      : `it ran past its timeout of ${timeoutMs} ms${r.hung.running.length ? ` in "${r.hung.running.join(' > ')}"` : ''}`;
    problems.push(`${file}: ${what}; open: ${[...r.hung.handles, r.hung.resources.join(', ')].filter(Boolean).join('; ') || 'nothing reported'}`);
  } else if (r.status !== 0) {
    const failed = r.tests.filter((t) => t.outcome === 'fail').map((t) => t.path);
    problems.push(`${file}: exited with ${r.status ?? r.signal}${failed.length ? `; failed: ${failed.join(' | ')}` : ' (no failed test reported: an error outside tests, or after the last one ended; see its output)'}`);
  }
  if (r.tests.length === 0 && !r.hung) warnings.push(`${file}: defines no test`);
  for (const t of r.tests.filter((t) => t.outcome === 'skip' || t.outcome === 'todo')) {
    if (!allowed(allowlist, file, t.name, t.path)) {
      warnings.push(`${file}: ${t.outcome} "${t.path}"${t.skipReason ? ` (${t.skipReason})` : ''} is not listed in tests/allowed-skips.json`);
    }
  }
}

// An entry nothing used any more is noted (not failed: a skip may depend on the machine).
const notes = [];
if (only.length === 0) {
  for (const e of allowlist) {
    const used = results.some((r) => r.file === e.file && r.tests.some((t) => (t.outcome === 'skip' || t.outcome === 'todo') && (t.name === e.test || t.path === e.test)));
    if (!used) notes.push(`tests/allowed-skips.json lists "${e.test}" in ${e.file}, which did not skip in this run`);
  }
}

const tests = results.flatMap((r) => r.tests);
const count = (o) => tests.filter((t) => t.outcome === o).length;
const slowest = [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
console.log('\n━━ summary');
console.log(`slowest files: ${slowest.map((r) => `${r.file} ${(r.durationMs / 1000).toFixed(1)} s`).join(', ')}`);
for (const n of notes) console.log(`ℹ ${n}`);
for (const w of warnings) console.log(`${ci ? '✖' : '⚠'} ${w}${ci ? '' : ' (fails with CI=true)'}`);
for (const p of problems) console.log(`✖ ${p}`);
console.log(`files ${files.length}, tests ${tests.length}, passed ${count('pass')}, failed ${count('fail')}, skipped ${count('skip')}, todo ${count('todo')}` +
  `${problems.length + (ci ? warnings.length : 0) > 0 ? `; FAILED (${problems.length + (ci ? warnings.length : 0)} problems)` : ''}`);
process.exit(problems.length > 0 || (ci && warnings.length > 0) ? 1 : 0);
