import { authPaths, authSchemas, securitySchemes } from './auth/openapi-paths.js';
import * as schemas from './schemas.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const errors = {
  '400': error('Invalid request (field-level details).'),
  '404': error('Not found, or not yours.'),
  '413': error('Request body too large.'),
  '415': error('Body is not application/json.'),
  '503': error('Unavailable or queue full.'),
  '401': error('No valid credential.'),
  '429': error('Rate limited (Retry-After).'),
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
/** Output is data, whatever its bytes: `base64` adds the exact bytes next to the text (README). */
const outputParam = {
  name: 'output', in: 'query', schema: { enum: ['text', 'base64'], default: 'text' },
  description:
    'text: output as text (UTF-8 decoding; invalid sequences U+FFFD; NUL and controls kept, JSON-escaped). base64: also the exact bytes, in stdoutBase64/stderrBase64 (evaluation and compile) and dataBase64 (stdout/stderr events).',
};

let cached: object | undefined;

/** The served OpenAPI 3.1 document, built from the same schemas that validate requests. */
export function openApiDocument(): object {
  cached ??= Object.freeze({
    openapi: '3.1.0',
    info: { title: 'Crucible API', version: '1.0.0', description: 'Run untrusted code in sandboxes; see API.md.' },
    security: [{ bearer: [] }],
    components: {
      securitySchemes,
      schemas: {
        ...authSchemas,
        EvaluationRequest: schemas.EvaluationRequest,
        BatchRequest: schemas.BatchRequest,
        Evaluation: schemas.Evaluation,
        Limits: schemas.Limits,
        SourceFile: schemas.SourceFile,
        Language: schemas.Language,
        Queue: schemas.Queue,
        DeadLetter: schemas.DeadLetter,
        Error: schemas.ErrorBody,
      },
    },
    paths: {
      '/v1/evaluations': {
        post: {
          summary: 'Submit an evaluation',
          parameters: [
            { name: 'wait', in: 'query', schema: { type: 'number', minimum: 0 }, description: 'Seconds to wait for a terminal status.' },
            outputParam,
            {
              name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 255 },
              description:
                'The same key from the same owner (kept 24 h) returns the same evaluation (200) instead of creating another; the same key with a different request is 422 idempotency_key_reused.',
            },
          ],
          requestBody: { required: true, content: json(ref('EvaluationRequest')) },
          responses: {
            '200': { description: 'The evaluation this Idempotency-Key already created.', content: json(ref('Evaluation')) },
            '422': error('This Idempotency-Key was used for a different request (idempotency_key_reused).'),
            '201': { description: 'Finished within the wait.', content: json(ref('Evaluation')) },
            '202': { description: 'Accepted.', content: json(ref('Evaluation')) },
            ...errors,
          },
        },
        get: {
          summary: 'List evaluations, newest first',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string' } },
            { name: 'language', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            outputParam,
          ],
          responses: {
            '200': {
              description: 'A page.',
              content: json({ type: 'object', properties: { items: { type: 'array', items: ref('Evaluation') }, nextCursor: { type: ['string', 'null'] } } }),
            },
            '400': errors['400'],
          },
        },
      },
      '/v1/evaluations/batch': {
        post: {
          summary: 'Submit up to 1000 evaluations; per-item results in input order',
          parameters: [
            outputParam,
            {
              name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 255 },
              description: 'Item i is keyed `<key>#<i>`: resending the batch returns what it created and creates only what is missing.',
            },
          ],
          requestBody: { required: true, content: json(ref('BatchRequest')) },
          responses: {
            '202': { description: 'Per-item results.', content: json({ type: 'object', properties: { items: { type: 'array' } } }) },
            ...errors,
          },
        },
      },
      '/v1/evaluations/{id}': {
        get: { summary: 'Read one evaluation', parameters: [idParam, outputParam], responses: { '200': { description: 'The evaluation.', content: json(ref('Evaluation')) }, '404': errors['404'] } },
      },
      '/v1/evaluations/{id}/cancel': {
        post: { summary: 'Cancel (no-op when terminal)', parameters: [idParam, outputParam], responses: { '200': { description: 'The evaluation.', content: json(ref('Evaluation')) }, '404': errors['404'] } },
      },
      '/v1/evaluations/{id}/events': {
        get: {
          summary: 'Server-Sent Events: status, stdout, stderr ({data}, with dataBase64 when ?output=base64), then done',
          parameters: [idParam, outputParam],
          responses: { '200': { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, '404': errors['404'] },
        },
      },
      '/v1/events': {
        get: {
          summary: "Server-Sent Events: status changes of all the caller's evaluations, live (no replay)",
          responses: { '200': { description: 'An event stream of `status` events `{id, status, outcome?}`.', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
        },
      },
      ...authPaths,
      '/v1/dlq': {
        get: {
          summary: 'Dead-letter queue: evaluations the platform gave up on (admin)',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'Open dead letters, newest first.',
              content: json({ type: 'object', properties: { items: { type: 'array', items: ref('DeadLetter') }, nextCursor: { type: ['string', 'null'] } } }),
            },
            '400': errors['400'],
          },
        },
      },
      '/v1/dlq/{id}/retry': {
        post: {
          summary: 'Retry a dead letter: its evaluation is queued again with a fresh attempt budget (admin)',
          parameters: [idParam],
          responses: { '200': { description: 'The re-queued evaluation.', content: json(ref('Evaluation')) }, '404': errors['404'] },
        },
      },
      '/v1/languages': {
        get: { security: [], summary: 'Languages with availability', responses: { '200': { description: 'Languages.', content: json({ type: 'array', items: ref('Language') }) } } },
      },
      '/v1/queue': { get: { summary: 'Lanes and agents', responses: { '200': { description: 'Queue state.', content: json(ref('Queue')) } } } },
      '/v1/openapi.json': { get: { security: [], summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1.' } } } },
      '/healthz': { get: { security: [], summary: 'Process is up', responses: { '200': { description: 'Up.' } } } },
      '/readyz': { get: { security: [], summary: 'PostgreSQL, Redis and a runtime usable', responses: { '200': { description: 'Ready.' }, '503': errors['503'] } } },
      '/metrics': { get: { security: [], summary: 'Prometheus metrics', responses: { '200': { description: 'Text format.', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  });
  return cached;
}
