export * from './keys.js';
export * from './reports.js';
export * from './heartbeat.js';
export * from './languages.js';
export type { LanguageInfo, OutputStream } from '../sandbox/sandbox.js';
export * from './lane-queue.js';
