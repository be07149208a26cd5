export { createApp, type AppDeps } from './app.js';
export { loadConfig, type GatewayConfig } from './config.js';
export { ApiError } from './errors.js';
export { openApiDocument } from './openapi.js';
export { generateKey, hashKey, verifyKey } from './auth/api-keys.js';
