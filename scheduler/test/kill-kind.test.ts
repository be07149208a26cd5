import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { killKind } from '../src/metrics.js';

describe('killKind (the kind label of crucible_sandbox_limit_kills_total)', () => {
  const cases: [string, { outcome: string; pidsLimitHit?: boolean }, string | undefined][] = [
    ['success is no kill', { outcome: 'success' }, undefined],
    ['an error is no kill', { outcome: 'error' }, undefined],
    ['memory', { outcome: 'memory_limit' }, 'memory'],
    ['timeout', { outcome: 'timeout' }, 'timeout'],
    ['output', { outcome: 'output_limit' }, 'output'],
    ['killed', { outcome: 'killed' }, 'killed'],
    ['a fork bomb stopped at its deadline is a pids kill', { outcome: 'timeout', pidsLimitHit: true }, 'pids'],
    ['a program failing after a refused fork is a pids kill', { outcome: 'error', pidsLimitHit: true }, 'pids'],
    ['a program that succeeded despite a refused fork is no kill', { outcome: 'success', pidsLimitHit: true }, undefined],
  ];
  for (const [name, r, kind] of cases) it(name, () => assert.equal(killKind(r), kind));
});
