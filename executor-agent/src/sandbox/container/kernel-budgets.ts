import { readFile } from 'node:fs/promises';
import { SANDBOX_RLIMITS } from './container-spec.js';
import { SANDBOX_UID_COUNT } from './uid-pool.js';

/** The rlimits whose per-sandbox share is charged up the user-namespace hierarchy to host root. */
const HIERARCHY: { name: keyof typeof SANDBOX_RLIMITS; row: string }[] = [
  { name: 'sigpending', row: 'Max pending signals' },
  { name: 'msgqueue', row: 'Max msgqueue size' },
  { name: 'memlock', row: 'Max locked memory' },
];

/**
 * Why the per-sandbox rlimits cannot keep host root's counters safe here, or [] when they can:
 * every sandbox the uid pool allows at once, each at its rlimit, must stay within half of what
 * the host's root processes may hold (read from `/proc/self/limits` of the agent, which runs as
 * the host's root beside the engine). Past that, enough concurrent evaluations could deny the host
 * (or each other) signals, queues or locked memory, so the sandbox refuses rather than pretend.
 */
export function hierarchyBudgetProblems(procLimits: string, sandboxes = SANDBOX_UID_COUNT): string[] {
  const problems: string[] = [];
  for (const { name, row } of HIERARCHY) {
    const line = procLimits.split('\n').find((l) => l.startsWith(row));
    const soft = line?.slice(row.length).trim().split(/\s+/)[0];
    if (soft === undefined) {
      problems.push(`cannot read the host's ${name} limit`);
      continue;
    }
    if (soft === 'unlimited') continue;
    const total = sandboxes * SANDBOX_RLIMITS[name];
    if (total > Number(soft) / 2) {
      problems.push(`${sandboxes} sandboxes × ${name} ${SANDBOX_RLIMITS[name]} = ${total} exceeds half the host's limit of ${soft}`);
    }
  }
  return problems;
}

export async function readProcLimits(path = '/proc/self/limits'): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}
