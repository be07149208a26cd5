export * from './types.js';
export * from './status-machine.js';
export * from './limits.js';
export * from './output.js';
