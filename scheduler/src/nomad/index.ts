export { NomadClient, isSchedulable, type NomadClientOptions, type NomadTls, type Indexed, type BlockingOptions } from './client.js';
export { NomadApiError, NomadUnreachableError } from './errors.js';
export { NomadDriver, type NomadDriverOptions, type DriverStatus } from './nomad-driver.js';
export { freeAgentSlots, type AgentAsk } from './capacity.js';
export { executorJobFor } from './executor-job.js';
export type * from './api-types.js';
export { publishDriverStatus, readDriverStatus, driverStatusKey } from './driver-status.js';
