/**
 * Checks requests (and the fake's own responses) against Nomad's OpenAPI specification
 * (scheduler/nomad-spec/openapi.yaml, vendored from ../shared/nomad), with the differences its README documents. Stricter than the
 * specification in one way on purpose: an object schema that lists properties is closed, so a
 * misspelt field (`Metadata` for `Meta`) is a violation instead of being silently ignored, as
 * Nomad itself would ignore it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const SPEC_PATH = process.env.NOMAD_OPENAPI_SPEC ?? resolve(import.meta.dirname, '../../../nomad-spec/openapi.yaml');

type Json = Record<string, any>;

interface ParamSpec {
  name: string;
  in: 'query' | 'header' | 'path';
  type: string;
  required: boolean;
}

interface Operation {
  method: string;
  path: string;
  pattern: RegExp;
  pathNames: string[];
  params: ParamSpec[];
  body?: ValidateFunction;
  responses: Map<number, ValidateFunction>;
}

/** Endpoints current Nomad has that the 1.1.4 specification lacks (README: "Missing paths"). */
const EXTRA_OPERATIONS: { method: string; path: string; query: Record<string, string> }[] = [
  { method: 'get', path: '/client/fs/logs/{alloc_id}', query: { task: 'string', type: 'string', plain: 'boolean', follow: 'boolean', origin: 'string', offset: 'integer', namespace: 'string', region: 'string' } },
  { method: 'get', path: '/event/stream', query: { topic: 'string', index: 'integer', namespace: 'string', region: 'string' } },
];

/** Fields current Nomad has that the specification lacks (README: "Missing fields"). */
const EXTRA_FIELDS: Record<string, Record<string, Json>> = {
  Job: { NodePool: { type: 'string' } },
  NodeListStub: { NodePool: { type: 'string' } },
};

export class SpecValidator {
  private readonly ops: Operation[] = [];
  private readonly ajv: Ajv;

  constructor(specText = readFileSync(SPEC_PATH, 'utf8')) {
    const spec = parse(specText) as Json;
    const schemas = spec.components.schemas as Record<string, Json>;
    for (const [name, extra] of Object.entries(EXTRA_FIELDS)) Object.assign(schemas[name]!.properties, extra);
    for (const schema of Object.values(schemas)) closeObjects(schema);
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: true });
    this.ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
    for (const f of ['int32', 'int64', 'double', 'float']) this.ajv.addFormat(f, true);
    this.ajv.addFormat('date-time', true);
    this.ajv.addSchema({ components: { schemas } }, 'spec');
    const compile = (schema: Json) => this.ajv.compile(rewriteRefs(structuredClone(schema)));

    const componentParams = spec.components.parameters as Record<string, Json>;
    for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const params: ParamSpec[] = ((op.parameters ?? []) as Json[]).map((p) => {
          const def = p.$ref ? componentParams[String(p.$ref).split('/').pop()!]! : p;
          return { name: def.name, in: def.in, type: def.schema?.type ?? 'string', required: def.required === true };
        });
        // Blocking queries: Nomad reads `index` from the query string (the spec says header).
        if (params.some((p) => p.name === 'index' && p.in === 'header')) params.push({ name: 'index', in: 'query', type: 'integer', required: false });
        const bodyRef = op.requestBody?.content?.['application/json']?.schema;
        const responses = new Map<number, ValidateFunction>();
        for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
          const resp = r.$ref ? (spec.components.responses as Json)[String(r.$ref).split('/').pop()!] : r;
          const schema = resp?.content?.['application/json']?.schema;
          if (schema) responses.set(Number(status), compile(schema));
        }
        this.ops.push({ method, path, ...pathPattern(path), params, body: bodyRef ? compile(bodyRef) : undefined, responses });
      }
    }
    for (const extra of EXTRA_OPERATIONS) {
      const params: ParamSpec[] = Object.entries(extra.query).map(([name, type]) => ({ name, in: 'query', type, required: false }));
      params.push({ name: 'X-Nomad-Token', in: 'header', type: 'string', required: false });
      this.ops.push({ method: extra.method, path: extra.path, ...pathPattern(extra.path), params, responses: new Map() });
    }
  }

  /** The operation a request is for, with its path parameters decoded. */
  match(method: string, path: string): { op: Operation; pathParams: Record<string, string> } | undefined {
    if (!path.startsWith('/v1/')) return undefined;
    const rest = path.slice(3);
    for (const op of this.ops) {
      if (op.method !== method.toLowerCase()) continue;
      const m = op.pattern.exec(rest);
      if (!m) continue;
      const pathParams = Object.fromEntries(op.pathNames.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      return { op, pathParams };
    }
    return undefined;
  }

  /** Every way the request departs from the specification; empty when it conforms. */
  checkRequest(method: string, url: URL, headers: Record<string, string | string[] | undefined>, body: string): string[] {
    const where = `${method} ${url.pathname}`;
    const found = this.match(method, url.pathname);
    if (!found) return [`${where}: no such operation in the specification`];
    const { op } = found;
    const problems: string[] = [];
    for (const name of new Set(url.searchParams.keys())) {
      const p = op.params.find((x) => x.in === 'query' && x.name === name);
      if (!p) {
        problems.push(`${where}: query parameter "${name}" is not defined for ${op.method.toUpperCase()} ${op.path}`);
        continue;
      }
      const values = url.searchParams.getAll(name);
      if (values.length > 1 && name !== 'topic') problems.push(`${where}: query parameter "${name}" repeated`);
      for (const v of values) {
        const bad = badValue(p.type, v);
        if (bad) problems.push(`${where}: query parameter "${name}"=${JSON.stringify(v)}: ${bad}`);
      }
    }
    if (url.searchParams.has('wait') && !url.searchParams.has('index')) problems.push(`${where}: "wait" without "index"`);
    const wait = url.searchParams.get('wait');
    if (wait !== null && !/^\d+(ms|s|m)$/.test(wait)) problems.push(`${where}: wait "${wait}" is not a duration`);
    if (headers['index'] !== undefined) problems.push(`${where}: index sent as a header; Nomad reads ?index=`);
    if (op.body) {
      if (!String(headers['content-type'] ?? '').startsWith('application/json')) problems.push(`${where}: body is not application/json`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        problems.push(`${where}: body is not JSON`);
      }
      if (parsed !== undefined && !op.body(parsed)) problems.push(...describeErrors(where, op.body));
    } else if (body.length > 0) {
      problems.push(`${where}: the operation takes no body`);
    }
    return problems;
  }

  /** The fake's own answers are checked too, so the fake cannot drift from Nomad's shapes. */
  checkResponse(method: string, path: string, status: number, value: unknown): string[] {
    const found = this.match(method, path);
    const validate = found?.op.responses.get(status);
    if (!validate || validate(value)) return [];
    return describeErrors(`response to ${method} ${path}`, validate);
  }

  /** Validates a value against one named schema (e.g. `Job`). */
  checkSchema(name: string, value: unknown): string[] {
    const validate = this.ajv.compile({ $ref: `spec#/components/schemas/${name}` });
    return validate(value) ? [] : describeErrors(name, validate);
  }
}

function describeErrors(where: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
}

function badValue(type: string, v: string): string | undefined {
  if (type === 'integer' && !/^-?\d+$/.test(v)) return 'not an integer';
  if (type === 'boolean' && v !== 'true' && v !== 'false') return 'not a boolean';
  return undefined;
}

function pathPattern(path: string): { pattern: RegExp; pathNames: string[] } {
  const pathNames: string[] = [];
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, n: string) => (pathNames.push(n), '([^/]+)'));
  return { pattern: new RegExp(`^${source}$`), pathNames };
}

function closeObjects(schema: Json): void {
  if (!schema || typeof schema !== 'object') return;
  if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false;
  for (const v of Object.values(schema.properties ?? {})) closeObjects(v as Json);
  if (schema.items) closeObjects(schema.items);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') closeObjects(schema.additionalProperties);
}

function rewriteRefs(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === '$ref' ? `spec${v as string}` : rewriteRefs(v as Json);
  return out;
}
