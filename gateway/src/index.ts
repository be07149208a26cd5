export { createApp, type AppDeps } from './app.js';
export { loadConfig, type GatewayConfig } from './config.js';
export { ApiError } from './errors.js';
export { openApiDocument } from './openapi.js';
