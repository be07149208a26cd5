export { ContainerSandbox, type ContainerSandboxOptions } from './container-sandbox.js';
export { containerSpec, entryFile, LABELS, CODE_DIR, type ContainerRuntime, type ContainerSpecInput } from './container-spec.js';
export { loadRuntimeCatalog, runtimeHash, DEFAULT_RUNTIMES_DIR, type RuntimeDefinition } from './runtime-catalog.js';
export { reapOrphans } from './reap.js';
export { connectDocker } from './docker-client.js';
