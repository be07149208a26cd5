import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { invalidRequest } from './errors.js';

// strictRequired is off: `oneOf: [{required: ['code']}, ...]` names properties declared in the parent.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, useDefaults: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Validates `value` against a schema from schemas.ts; on failure throws 400 `invalid_request`
 * whose details name each offending field.
 */
export function validate<T>(schema: object, value: unknown, where = 'body'): T {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (!fn(value)) {
    const details = (fn.errors ?? []).map((e) => describe(e, where));
    throw invalidRequest(`${where} is invalid: ${details[0]?.message ?? 'does not match the schema'}`, details);
  }
  return value as T;
}

function describe(e: ErrorObject, where: string): { field: string; message: string } {
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
  const field = e.keyword === 'additionalProperties'
    ? [path, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.')
    : path || where;
  const message = e.keyword === 'oneOf' ? 'give exactly one of "code" or "files"' : `${field} ${e.message ?? 'is invalid'}${extra}`;
  return { field, message };
}
