import type { RuntimeKind } from '@crucible/storage/domain';

/**
 * Languages the platform knows, and the sandbox each runs in. Agents report availability and
 * versions; this static list lets the gateway validate requests with no agent running.
 */
export const KNOWN_LANGUAGES: readonly { id: string; name: string; runtime: RuntimeKind }[] = Object.freeze([
  { id: 'python', name: 'Python 3', runtime: 'container' },
  { id: 'python-ml', name: 'Python 3 with numpy, scipy, pandas, scikit-learn', runtime: 'container' },
  { id: 'javascript-node', name: 'JavaScript (Node.js)', runtime: 'container' },
  { id: 'bash', name: 'Bash', runtime: 'container' },
  { id: 'c', name: 'C (gcc)', runtime: 'container' },
  { id: 'cpp', name: 'C++ (g++)', runtime: 'container' },
  { id: 'javascript', name: 'JavaScript (QuickJS)', runtime: 'wasm' },
  { id: 'wasm', name: 'WebAssembly (WASI)', runtime: 'wasm' },
]);
