// The one list of tests allowed to be skipped or todo in CI, each with its reason:
// tests/allowed-skips.json, an array of { "file", "test", "reason" }. "test" is the test's name, or
// its full path "suite > test" where a name alone is ambiguous.
import { existsSync, readFileSync } from 'node:fs';

/** @returns {{ file: string, test: string, reason: string }[]} */
export function loadAllowlist(path) {
  if (!existsSync(path)) return [];
  const entries = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(entries)) throw new Error(`${path}: expected an array of { file, test, reason }`);
  for (const e of entries) {
    if (typeof e?.file !== 'string' || typeof e?.test !== 'string' || typeof e?.reason !== 'string' || e.reason.trim() === '') {
      throw new Error(`${path}: every entry needs a file, a test and a non-empty reason: ${JSON.stringify(e)}`);
    }
  }
  return entries;
}

/** The entry that allows this skipped/todo test, if any. */
export function allowed(entries, file, name, path) {
  return entries.find((e) => e.file === file && (e.test === name || e.test === path));
}
