import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_LIMITS,
  DEFAULT_MAX_LIMITS,
  LimitExceededError,
  STATUSES,
  TERMINAL_STATUSES,
  canTransition,
  isTerminal,
  predecessors,
  resolveLimits,
  type Status,
} from '../src/domain/index.js';

describe('resolveLimits', () => {
  it('gives the server defaults when nothing is asked', () => {
    assert.deepEqual(resolveLimits(undefined), { ...DEFAULT_LIMITS });
    assert.deepEqual(resolveLimits({}), { ...DEFAULT_LIMITS });
  });

  it('lets a request tighten any limit', () => {
    const got = resolveLimits({ timeoutMs: 500, memoryMb: 64 });
    assert.equal(got.timeoutMs, 500);
    assert.equal(got.memoryMb, 64);
    assert.equal(got.pids, DEFAULT_LIMITS.pids);
  });

  it('lets a request raise a default up to the server maximum', () => {
    assert.equal(resolveLimits({ timeoutMs: DEFAULT_MAX_LIMITS.timeoutMs }).timeoutMs, DEFAULT_MAX_LIMITS.timeoutMs);
  });

  it('refuses a request above the server maximum, naming the field', () => {
    assert.throws(
      () => resolveLimits({ memoryMb: DEFAULT_MAX_LIMITS.memoryMb + 1 }),
      (error: unknown) =>
        error instanceof LimitExceededError &&
        error.field === 'memoryMb' &&
        error.maximum === DEFAULT_MAX_LIMITS.memoryMb,
    );
  });

  it('caps by the runtime maximum too, both for defaults and for requests', () => {
    const runtime = { memoryMb: 128, timeoutMs: 5_000 };
    const got = resolveLimits(undefined, runtime);
    assert.equal(got.memoryMb, 128, 'default lowered to the runtime ceiling');
    assert.equal(got.timeoutMs, 5_000);
    assert.throws(() => resolveLimits({ memoryMb: 129 }, runtime), LimitExceededError);
  });

  it('never lets a runtime raise the server maximum', () => {
    assert.throws(() => resolveLimits({ cpus: 4 }, { cpus: 8 }), LimitExceededError);
  });
});

describe('status machine', () => {
  const allowed: [Status, Status][] = [
    ['queued', 'provisioning'],
    ['queued', 'running'],
    ['queued', 'completed'],
    ['queued', 'failed'],
    ['queued', 'cancelled'],
    ['provisioning', 'running'],
    ['provisioning', 'completed'],
    ['provisioning', 'failed'],
    ['provisioning', 'cancelled'],
    ['provisioning', 'queued'],
    ['running', 'completed'],
    ['running', 'failed'],
    ['running', 'cancelled'],
    ['running', 'queued'],
  ];

  it('allows exactly the documented transitions', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const expected = allowed.some(([f, t]) => f === from && t === to);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      }
    }
  });

  it('treats completed, failed and cancelled as terminal, with no way out', () => {
    assert.deepEqual([...TERMINAL_STATUSES].sort(), ['cancelled', 'completed', 'failed']);
    for (const status of STATUSES) {
      assert.equal(isTerminal(status), TERMINAL_STATUSES.includes(status));
      if (isTerminal(status)) for (const to of STATUSES) assert.equal(canTransition(status, to), false);
    }
  });

  it('predecessors is the inverse of canTransition', () => {
    for (const to of STATUSES) {
      assert.deepEqual(
        predecessors(to).sort(),
        STATUSES.filter((from) => canTransition(from, to)).sort(),
        `predecessors(${to})`,
      );
    }
  });
});
