// Which test files a run covers. The packages are the root package.json's workspaces (so a new
// package cannot be left out by forgetting a list here), each with its tests in `test/`; the root's
// own `tests/` (the runner's tests) is included when present.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function testFiles(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(testFiles(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/**
 * @param {string} root the checkout
 * @returns {{ files: string[], missingTestDirs: string[] }} files relative to root, sorted by package
 */
export function discover(root) {
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const missingTestDirs = [];
  const files = [];
  for (const pkg of workspaces) {
    const dir = join(root, pkg, 'test');
    if (!existsSync(dir)) missingTestDirs.push(`${pkg}/test`);
    else files.push(...testFiles(dir));
  }
  if (existsSync(join(root, 'tests'))) files.push(...testFiles(join(root, 'tests')));
  return { files: files.map((f) => relative(root, f)), missingTestDirs };
}
