export { Agent, type AgentOptions } from './agent.js';
export { loadConfig, type AgentConfig } from './config.js';
export * from './protocol/index.js';
export * from './sandbox/sandbox.js';
export { LaneConsumer, type Delivery, type Disposition, type LaneConsumerOptions } from './lane-consumer.js';
