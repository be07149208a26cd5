import { Counter, Gauge } from 'prom-client';
import { PRIORITIES } from '@crucible/storage/domain';
import { initialiseAtZero, labelSets } from '../metrics.js';

/** The nomad driver's metrics, on prom-client's default registry (served wherever /metrics is). */
export const nomadDispatches = new Counter({
  name: 'crucible_nomad_dispatches_total',
  help: 'Executor agents dispatched as Nomad jobs, by lane.',
  labelNames: ['lane'] as const,
});
initialiseAtZero(nomadDispatches, labelSets({ lane: PRIORITIES }));

export const nomadAllocationsEnded = new Counter({
  name: 'crucible_nomad_allocations_abnormal_total',
  help: 'Agent allocations that ended lost or failed (their tasks return through the stall check).',
  labelNames: ['status'] as const,
});
/** The allocation client statuses counted (nomad-driver.ts counts only these). */
export const ABNORMAL_ALLOCATION_STATUSES = ['lost', 'failed'] as const;
initialiseAtZero(nomadAllocationsEnded, labelSets({ status: ABNORMAL_ALLOCATION_STATUSES }));

export const nomadReachable = new Gauge({
  name: 'crucible_nomad_reachable',
  help: '1 when the last conversation of the nomad driver with Nomad worked, else 0.',
});
