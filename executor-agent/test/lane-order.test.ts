import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { laneOrder, SHARE_CYCLE } from '../src/lane-order.js';
import { MAX_BACKOFF_MS, mayRetry, retryDelayMs } from '../src/retry-policy.js';

describe('laneOrder (priority with a reserved share)', () => {
  const cases: [number, string[], string[]][] = [
    [0, ['high', 'normal', 'low'], ['high', 'normal', 'low']],
    [3, ['high', 'normal', 'low'], ['normal', 'high', 'low']],
    [9, ['high', 'normal', 'low'], ['low', 'high', 'normal']],
    [19, ['high', 'normal', 'low'], ['low', 'high', 'normal']],
    [7, ['high', 'normal', 'low'], ['normal', 'high', 'low']],
    [9, ['high', 'normal'], ['high', 'normal']],
    [3, ['low', 'high'], ['high', 'low']],
    [1, ['low'], ['low']],
  ];
  for (const [pick, lanes, expected] of cases) {
    it(`pick ${pick} of ${lanes.join(',')} → ${expected.join(',')}`, () => {
      assert.deepEqual(laneOrder(pick, lanes as never), expected);
    });
  }

  it('over a cycle with every lane full, each lane gets its share and high the rest', () => {
    const firsts = Array.from({ length: SHARE_CYCLE * 4 }, (_, n) => laneOrder(n, ['high', 'normal', 'low'])[0]);
    const count = (lane: string) => firsts.filter((f) => f === lane).length;
    assert.equal(count('low'), 4);
    assert.ok(count('normal') >= 8);
    assert.ok(count('high') > count('normal') + count('low'));
  });
});

describe('retryDelayMs (exponential backoff with equal jitter)', () => {
  const table: [number, number, number, number][] = [
    // failed attempt, base, random, expected
    [1, 1000, 0, 500],
    [1, 1000, 1, 1000],
    [2, 1000, 0, 1000],
    [3, 1000, 0.5, 3000],
    [30, 1000, 1, MAX_BACKOFF_MS],
    [1, 0, 0.7, 0],
  ];
  for (const [attempt, base, random, expected] of table) {
    it(`attempt ${attempt}, base ${base}, random ${random} → ${expected} ms`, () => {
      assert.equal(retryDelayMs(attempt, base, () => random), expected);
    });
  }

  it('spreads retries of tasks that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(2, 1000)));
    assert.ok(delays.size > 10);
    for (const d of delays) assert.ok(d >= 1000 && d <= 2000);
  });

  it('allows attempts up to the maximum only', () => {
    assert.equal(mayRetry(1, 3), true);
    assert.equal(mayRetry(3, 3), false);
    assert.equal(mayRetry(1, 1), false);
  });
});
