import type { Job } from './api-types.js';
import { EXECUTOR_JOB } from './executor-job.generated.js';

export interface ExecutorJobSettings {
  jobId: string;
  /** Agent environment from the scheduler's own settings (Redis, runtime, log level); PATH excluded. */
  env: Record<string, string>;
  /** The lane's limits: the agent's ask is its overhead plus `concurrency` programs at these limits. */
  concurrency: number;
  maxCpus: number;
  maxMemoryMb: number;
}

const AGENT_OVERHEAD_MB = 256;
const AGENT_OVERHEAD_MHZ = 200;

/**
 * The executor job to register when Nomad has none (a dev cluster): the jobspec from jobs/ with
 * this scheduler's Redis settings and a resource ask sized from the lane limits, so Nomad
 * bin-packs agents by what their sandboxes may really use.
 */
export function executorJobFor(s: ExecutorJobSettings): Job {
  const job = structuredClone(EXECUTOR_JOB) as Job;
  job.ID = job.Name = s.jobId;
  const task = job.TaskGroups![0]!.Tasks![0]!;
  const { PATH: _path, ...env } = s.env;
  task.Env = { ...task.Env, ...env };
  task.Resources = {
    ...task.Resources,
    CPU: AGENT_OVERHEAD_MHZ + s.concurrency * Math.ceil(s.maxCpus * 1000),
    MemoryMB: AGENT_OVERHEAD_MB + s.concurrency * s.maxMemoryMb,
  };
  return job;
}
