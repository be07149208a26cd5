export { Scheduler, agentEntry, type Driver } from './scheduler.js';
export { loadConfig, type SchedulerConfig } from './config.js';
export { TaskQueue, type LaneDepth } from './task-queue.js';
export { EventBus } from './event-bus.js';
export { AgentRegistry } from './agent-registry.js';
export { ResultCollector } from './result-collector.js';
export { Reconciler, taskOf } from './reconciler.js';
export { LocalDriver } from './local-driver.js';
export { NomadClient, NomadDriver, NomadApiError, NomadUnreachableError, readDriverStatus, type DriverStatus } from './nomad/index.js';
