import { CONTAINER_RUNTIMES, OUTCOMES, PRIORITIES, STATUSES } from '@crucible/storage/domain';

/**
 * JSON Schemas (2020-12) of the API: the same objects validate requests and make up
 * `/v1/openapi.json`, so the served document cannot drift from the code.
 */

const limitFields = {
  timeoutMs: { type: 'integer', minimum: 1, description: 'Wall-clock deadline.' },
  memoryMb: { type: 'integer', minimum: 1, description: 'Memory (and memory+swap) in MiB.' },
  cpus: { type: 'number', exclusiveMinimum: 0, description: 'CPU quota in cores.' },
  pids: { type: 'integer', minimum: 1, description: 'Maximum processes/threads.' },
  outputBytes: { type: 'integer', minimum: 1, description: 'Cap per output stream.' },
} as const;

export const Limits = {
  type: 'object',
  additionalProperties: false,
  properties: limitFields,
} as const;

export const SourceFile = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'content'],
  properties: {
    // Names are flat: no directories, so no path can escape the code folder.
    name: { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,128}$' },
    content: { type: 'string' },
    encoding: { enum: ['utf8', 'base64'], default: 'utf8' },
  },
} as const;

export const EvaluationRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['language'],
  properties: {
    language: { type: 'string', minLength: 1, maxLength: 64 },
    code: { type: 'string' },
    files: { type: 'array', minItems: 1, maxItems: 64, items: SourceFile },
    stdin: { type: 'string' },
    args: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 4096 } },
    limits: Limits,
    priority: { enum: PRIORITIES },
    runtime: { enum: ['auto', 'container', 'wasm'] },
    containerRuntime: { enum: CONTAINER_RUNTIMES, description: 'Container languages only: runc, or runsc (gVisor) for a user-space kernel.' },
    metadata: { type: 'object', maxProperties: 64 },
  },
  oneOf: [{ required: ['code'] }, { required: ['files'] }],
} as const;

export const BatchRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['evaluations'],
  properties: {
    evaluations: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object' } },
  },
} as const;

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const time = { type: 'string', format: 'date-time' } as const;

export const Evaluation = {
  type: 'object',
  required: ['id', 'status', 'outcome', 'language', 'runtime', 'priority', 'exitCode', 'signal', 'stdout', 'stderr',
    'stdoutTruncated', 'stderrTruncated', 'durationMs', 'limits', 'metadata', 'error', 'createdAt', 'startedAt',
    'finishedAt', 'attempts'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { enum: STATUSES },
    outcome: nullable({ enum: OUTCOMES }),
    language: { type: 'string' },
    runtime: { enum: ['container', 'wasm'] },
    priority: { enum: PRIORITIES },
    exitCode: nullable({ type: 'integer' }),
    signal: nullable({ type: 'string' }),
    stdout: { type: 'string', description: 'The output as text: its UTF-8 decoding, invalid sequences as U+FFFD, NUL and other controls kept (escaped by JSON).' },
    stderr: { type: 'string', description: 'As stdout.' },
    stdoutBase64: { type: 'string', contentEncoding: 'base64', description: 'With ?output=base64 only: the exact bytes the program wrote (up to the cap).' },
    stderrBase64: { type: 'string', contentEncoding: 'base64', description: 'With ?output=base64 only: as stdoutBase64.' },
    stdoutTruncated: { type: 'boolean' },
    stderrTruncated: { type: 'boolean' },
    durationMs: nullable({ type: 'integer' }),
    pidsLimitHit: { type: 'boolean' },
    containerRuntime: nullable({ enum: CONTAINER_RUNTIMES }),
    compile: nullable({
      type: 'object',
      required: ['stdout', 'stderr', 'exitCode', 'durationMs'],
      properties: {
        stdout: { type: 'string' },
        stderr: { type: 'string' },
        stdoutBase64: { type: 'string', contentEncoding: 'base64', description: 'With ?output=base64 only.' },
        stderrBase64: { type: 'string', contentEncoding: 'base64', description: 'With ?output=base64 only.' },
        exitCode: nullable({ type: 'integer' }),
        durationMs: { type: 'integer' },
      },
    }),
    limits: { type: 'object', required: Object.keys(limitFields), properties: limitFields },
    metadata: { type: 'object' },
    error: nullable({ type: 'string' }),
    createdAt: time,
    startedAt: nullable(time),
    finishedAt: nullable(time),
    attempts: { type: 'integer' },
  },
} as const;

export const ErrorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
} as const;

export const Language = {
  type: 'object',
  required: ['id', 'name', 'version', 'runtime', 'available'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    runtime: { enum: ['container', 'wasm'] },
    available: { type: 'boolean' },
    reason: { type: 'string' },
  },
} as const;

export const Queue = {
  type: 'object',
  required: ['lanes', 'agents', 'driver'],
  properties: {
    lanes: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, depth: { type: 'integer' }, running: { type: 'integer' } } },
    },
    agents: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, node: { type: 'string' }, lane: { type: 'string' },
          lanes: { type: 'array', items: { type: 'string' } }, running: { type: 'integer' }, lastSeenAt: time,
        },
      },
    },
    driver: { enum: ['local', 'nomad'] },
  },
} as const;

/** One open dead letter (`GET /v1/dlq`). */
export const DeadLetter = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    evaluationId: { type: 'string', format: 'uuid' },
    owner: { type: 'string' },
    language: { type: 'string' },
    runtime: { enum: ['container', 'wasm'] },
    priority: { enum: [...PRIORITIES] },
    reason: { type: 'string' },
    attempts: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;
