import { PRIORITIES, type Priority } from '@crucible/storage/domain';

/**
 * The order in which an agent looks at its lanes for its next task: strict priority (`high`, then
 * `normal`, then `low`) with a reserved share, so a busy higher lane cannot starve a lower one
 * forever. Of every {@link SHARE_CYCLE} tasks an agent takes, pick number `n` (counting from 0):
 *
 * - `n % 10 === 9` looks at `low` first (low keeps at least 10% of an agent's picks when it has work);
 * - otherwise `n % 4 === 3` looks at `normal` first (normal keeps at least about 20%);
 * - otherwise strict priority.
 *
 * A lane with nothing waiting is skipped, so the share is never wasted. Pure and deterministic, so
 * the rule is tested on its own (test/lane-order.test.ts) and through a saturated agent.
 */
export const SHARE_CYCLE = 10;

export function laneOrder(pick: number, lanes: readonly Priority[]): Priority[] {
  const served = PRIORITIES.filter((p) => lanes.includes(p));
  const first: Priority | undefined = pick % SHARE_CYCLE === SHARE_CYCLE - 1 ? 'low' : pick % 4 === 3 ? 'normal' : undefined;
  if (!first || !served.includes(first)) return served;
  return [first, ...served.filter((p) => p !== first)];
}
