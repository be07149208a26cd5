import { PRIORITIES, type Priority } from '@crucible/storage/domain';

/** The nomad driver's settings; the NOMAD_* names are the ones Nomad's own CLI reads. */
export interface NomadSettings {
  address: string;
  token?: string;
  namespace?: string;
  region?: string;
  /** Paths of PEM files (read when the driver starts). */
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  jobId: string;
  lanes: Priority[];
  minAgents: number;
  maxAgents: number;
  maxStepUp: number;
  drainTargetSeconds: number;
  idleTimeoutMs: number;
  maxTasksPerAgent: number;
  intervalMs: number;
  /** Register the executor job from jobs/ when Nomad has none (dev clusters; terraform registers it otherwise). */
  registerJob: boolean;
  /** The lane limits that size an agent's resource ask (same variables as the gateway's). */
  maxCpus: number;
  maxMemoryMb: number;
}

export function loadNomadSettings(env: NodeJS.ProcessEnv): NomadSettings {
  const address = env.NOMAD_ADDR || 'http://127.0.0.1:4646';
  if (!/^https?:\/\//.test(address)) throw new Error(`NOMAD_ADDR must start with http:// or https://, got "${address}"`);
  const lanes = (env.CRUCIBLE_NOMAD_LANES ?? PRIORITIES.join(',')).split(',').map((l) => l.trim());
  for (const lane of lanes) if (!(PRIORITIES as readonly string[]).includes(lane)) throw new Error(`CRUCIBLE_NOMAD_LANES: unknown lane "${lane}"`);
  const minAgents = int(env.CRUCIBLE_NOMAD_MIN_AGENTS, 0, 0, 'CRUCIBLE_NOMAD_MIN_AGENTS');
  const maxAgents = int(env.CRUCIBLE_NOMAD_MAX_AGENTS, 10, 1, 'CRUCIBLE_NOMAD_MAX_AGENTS');
  if (maxAgents < minAgents) throw new Error('CRUCIBLE_NOMAD_MAX_AGENTS must be ≥ CRUCIBLE_NOMAD_MIN_AGENTS');
  const https = address.startsWith('https://');
  return {
    address,
    token: env.NOMAD_TOKEN || undefined,
    namespace: env.NOMAD_NAMESPACE || undefined,
    region: env.NOMAD_REGION || undefined,
    caCert: (https && env.NOMAD_CACERT) || undefined,
    clientCert: (https && env.NOMAD_CLIENT_CERT) || undefined,
    clientKey: (https && env.NOMAD_CLIENT_KEY) || undefined,
    tlsServerName: (https && env.NOMAD_TLS_SERVER_NAME) || undefined,
    jobId: env.CRUCIBLE_NOMAD_JOB ?? 'crucible-executor',
    lanes: lanes as Priority[],
    minAgents,
    maxAgents,
    maxStepUp: int(env.CRUCIBLE_NOMAD_MAX_STEP_UP, 5, 1, 'CRUCIBLE_NOMAD_MAX_STEP_UP'),
    drainTargetSeconds: int(env.CRUCIBLE_NOMAD_DRAIN_TARGET_SECONDS, 30, 1, 'CRUCIBLE_NOMAD_DRAIN_TARGET_SECONDS'),
    idleTimeoutMs: int(env.CRUCIBLE_NOMAD_IDLE_TIMEOUT_MS, 60_000, 0, 'CRUCIBLE_NOMAD_IDLE_TIMEOUT_MS'),
    maxTasksPerAgent: int(env.CRUCIBLE_NOMAD_MAX_TASKS, 0, 0, 'CRUCIBLE_NOMAD_MAX_TASKS'),
    intervalMs: int(env.CRUCIBLE_NOMAD_INTERVAL_MS, 2000, 100, 'CRUCIBLE_NOMAD_INTERVAL_MS'),
    registerJob: (env.CRUCIBLE_NOMAD_REGISTER_JOB ?? 'true') !== 'false',
    maxCpus: positiveNumber(env.CRUCIBLE_MAX_CPUS, 1, 'CRUCIBLE_MAX_CPUS'),
    maxMemoryMb: int(env.CRUCIBLE_MAX_MEMORY_MB, 512, 1, 'CRUCIBLE_MAX_MEMORY_MB'),
  };
}

function int(value: string | undefined, fallback: number, min: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function positiveNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return n;
}
