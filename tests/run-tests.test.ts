// The runner's own checks, proven on miniature checkouts (scripts/test-runner/fixtures) that each
// must make it fail for one reason, and one that must pass.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('../scripts/run-tests.mjs', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../scripts/test-runner/fixtures/${name}`, import.meta.url));

function run(name: string, ci: boolean) {
  const env: NodeJS.ProcessEnv = { ...process.env, CRUCIBLE_TEST_LEAK_GRACE_MS: '1500', CRUCIBLE_TEST_FILE_TIMEOUT_MS: '8000' };
  if (ci) env.CI = 'true';
  else delete env.CI;
  const r = spawnSync(process.execPath, [RUNNER, '--root', fixture(name)], { env, encoding: 'utf8', timeout: 60_000 });
  const summary = r.stdout.slice(r.stdout.lastIndexOf('━━ summary'));
  return { status: r.status, out: r.stdout + r.stderr, summary };
}

describe('the test runner', () => {
  for (const ci of [false, true]) {
    test(`fails a file whose assertion fires after its last test ended (CI=${ci})`, () => {
      const r = run('late-assertion', ci);
      assert.equal(r.status, 1, r.out);
      assert.match(r.summary, /✖ pkg\/test\/late\.test\.ts: exited with 1/, r.out);
      assert.match(r.out, /generated asynchronous activity after the test ended/);
    });

    test(`fails a file that leaks a handle, naming it (CI=${ci})`, () => {
      const r = run('leaked-handle', ci);
      assert.equal(r.status, 1, r.out);
      assert.match(r.summary, /leak\.test\.ts: its tests ended but its process was still alive .*open: .*Server listening on .*127\.0\.0\.1/, r.out);
    });

    test(`fails a file that runs past its timeout, naming the test and the handles (CI=${ci})`, () => {
      const r = run('timeout', ci);
      assert.equal(r.status, 1, r.out);
      assert.match(r.summary, /stuck\.test\.ts: it ran past its timeout of 8000 ms in "waits for something that never comes"; open: .*Timeout ×1/, r.out);
    });
  }

  const ciOnly: [string, RegExp][] = [
    ['zero-tests', /empty\.test\.ts: defines no test/],
    ['all-skipped', /skip "never runs" \(no reason given in the allowlist\) is not listed[\s\S]*skip "never runs either"/],
    ['unlisted-skip', /skip "is skipped without being listed" is not listed/],
    ['todo', /todo "is not written yet" is not listed/],
    ['missing-test-folder', /package without a test folder: untested\/test/],
  ];
  for (const [name, reason] of ciOnly) {
    test(`in CI fails on ${name}, elsewhere warns`, () => {
      const strict = run(name, true);
      assert.equal(strict.status, 1, strict.out);
      assert.match(strict.summary, new RegExp(`✖ .*${reason.source}`), strict.out);
      assert.match(strict.summary, /FAILED/);
      const lax = run(name, false);
      assert.equal(lax.status, 0, lax.out);
      assert.match(lax.summary, new RegExp(`⚠ .*${reason.source}`), lax.out);
    });
  }

  test('passes a skip listed with its reason, and prints the counts', () => {
    const r = run('listed-skip', true);
    assert.equal(r.status, 0, r.out);
    assert.match(r.summary, /files 1, tests 2, passed 1, failed 0, skipped 1, todo 0$/m, r.out);
    assert.doesNotMatch(r.summary, /✖|⚠/);
  });

  test('counts every outcome', () => {
    const r = run('todo', false);
    assert.match(r.summary, /files 1, tests 2, passed 1, failed 0, skipped 0, todo 1$/m, r.out);
  });
});
