/**
 * HCL jobspecs (jobs/*.nomad.hcl) → Nomad's JSON job form, at build time, without a Nomad binary
 * (`nomad job run -output` would do this). HCL is parsed by @cdktf/hcl2json (HashiCorp's own HCL
 * library compiled to Wasm); the mapping below covers the blocks Crucible's executor job uses and
 * throws on anything else, so a new block in the HCL cannot be silently dropped from the JSON.
 */
import { createRequire } from 'node:module';
import type { Job, Task, TaskGroup } from '../src/nomad/api-types.js';

type Obj = Record<string, unknown>;

// Loaded untyped on purpose: the package's .d.ts has `/// <reference lib="dom" />`, which would
// pull DOM typings into every program that includes this file and break Node's.
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse(name: string, text: string): Promise<Obj> };

/** Parses any HCL file into hcl2json's raw form (blocks as arrays); throws on a syntax error. */
export async function parseHcl(name: string, text: string): Promise<Obj> {
  return (await parse(name, text)) as Obj;
}

/** The variables' defaults, overridden by `vars` (like `nomad job run -var`). */
export function variables(raw: Obj, vars: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, blocks] of Object.entries((raw.variable ?? {}) as Record<string, Obj[]>)) out[name] = blocks[0]?.default;
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in out)) throw new Error(`unknown variable "${k}"`);
    out[k] = v;
  }
  return out;
}

/** The one job of a jobspec in Nomad's API form. */
export async function jobspecToJson(name: string, text: string, vars: Record<string, unknown> = {}): Promise<Job> {
  const raw = await parseHcl(name, text);
  const env = variables(raw, vars);
  const jobs = Object.entries((raw.job ?? {}) as Record<string, Obj[]>);
  if (jobs.length !== 1) throw new Error(`${name}: expected exactly one job block, found ${jobs.length}`);
  const [id, [body]] = jobs[0]! as [string, Obj[]];
  return convertJob(id, resolve(body, env) as Obj);
}

/** `${var.x}` references resolved; runtime interpolation (`${NOMAD_META_lane}`, `${node.*}`) kept as Nomad keeps it. */
function resolve(value: unknown, vars: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, vars)]));
  if (typeof value !== 'string') return value;
  const whole = /^\$\{var\.(\w+)\}$/.exec(value);
  if (whole) return lookup(whole[1]!);
  return value.replace(/\$\{var\.(\w+)\}/g, (_, n: string) => String(lookup(n)));
  function lookup(n: string): unknown {
    if (!(n in vars)) throw new Error(`undefined variable var.${n}`);
    return vars[n];
  }
}

function convertJob(id: string, b: Obj): Job {
  const job: Job = { ID: id, Name: id };
  for (const [k, v] of Object.entries(b)) {
    switch (k) {
      case 'type':
        job.Type = str(v);
        break;
      case 'datacenters':
        job.Datacenters = (v as unknown[]).map(str);
        break;
      case 'priority':
        job.Priority = num(v);
        break;
      case 'namespace':
        job.Namespace = str(v);
        break;
      case 'region':
        job.Region = str(v);
        break;
      case 'meta':
        job.Meta = strings(one(v));
        break;
      case 'parameterized': {
        const p = one(v);
        job.ParameterizedJob = { Payload: str(p.payload ?? 'optional'), MetaRequired: (p.meta_required as string[]) ?? [], MetaOptional: (p.meta_optional as string[]) ?? [] };
        break;
      }
      case 'constraint':
        job.Constraints = (v as Obj[]).map(constraint);
        break;
      case 'group':
        job.TaskGroups = Object.entries(v as Record<string, Obj[]>).map(([name, [g]]) => convertGroup(name, g!));
        break;
      default:
        throw new Error(`job ${id}: "${k}" is not supported by the JSON generator; extend scheduler/scripts/jobspec.ts`);
    }
  }
  return job;
}

function convertGroup(name: string, b: Obj): TaskGroup {
  const g: TaskGroup = { Name: name };
  for (const [k, v] of Object.entries(b)) {
    switch (k) {
      case 'count':
        g.Count = num(v);
        break;
      case 'restart': {
        const r = one(v);
        g.RestartPolicy = { Attempts: num(r.attempts ?? 0), Mode: str(r.mode ?? 'fail'), Delay: dur(r.delay ?? '15s'), Interval: dur(r.interval ?? '24h') };
        break;
      }
      case 'reschedule': {
        const r = one(v);
        g.ReschedulePolicy = { Attempts: num(r.attempts ?? 0), Unlimited: Boolean(r.unlimited ?? false), Interval: dur(r.interval ?? '0s'), Delay: dur(r.delay ?? '5s') };
        break;
      }
      case 'ephemeral_disk':
        g.EphemeralDisk = { SizeMB: num(one(v).size ?? 300) };
        break;
      case 'meta':
        g.Meta = strings(one(v));
        break;
      case 'constraint':
        g.Constraints = (v as Obj[]).map(constraint);
        break;
      case 'task':
        g.Tasks = Object.entries(v as Record<string, Obj[]>).map(([n, [t]]) => convertTask(n, t!));
        break;
      default:
        throw new Error(`group ${name}: "${k}" is not supported by the JSON generator`);
    }
  }
  return g;
}

function convertTask(name: string, b: Obj): Task {
  const t: Task = { Name: name };
  for (const [k, v] of Object.entries(b)) {
    switch (k) {
      case 'driver':
        t.Driver = str(v);
        break;
      case 'config':
        t.Config = one(v);
        break;
      case 'env':
        t.Env = strings(one(v));
        break;
      case 'meta':
        t.Meta = strings(one(v));
        break;
      case 'resources': {
        const r = one(v);
        t.Resources = { CPU: num(r.cpu ?? 100), MemoryMB: num(r.memory ?? 300) };
        if (r.memory_max !== undefined) t.Resources.MemoryMaxMB = num(r.memory_max);
        break;
      }
      case 'kill_signal':
        t.KillSignal = str(v);
        break;
      case 'kill_timeout':
        t.KillTimeout = dur(v);
        break;
      case 'user':
        t.User = str(v);
        break;
      case 'logs': {
        const l = one(v);
        t.LogConfig = { MaxFiles: num(l.max_files ?? 10), MaxFileSizeMB: num(l.max_file_size ?? 10) };
        break;
      }
      case 'dispatch_payload':
        t.DispatchPayload = { File: str(one(v).file) };
        break;
      default:
        throw new Error(`task ${name}: "${k}" is not supported by the JSON generator`);
    }
  }
  return t;
}

function constraint(c: Obj) {
  return { LTarget: str(c.attribute ?? ''), RTarget: str(c.value ?? ''), Operand: str(c.operator ?? '=') };
}

/** Nomad's JSON durations are integer nanoseconds. */
export function dur(v: unknown): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(str(v));
  if (!m) throw new Error(`not a duration: ${String(v)}`);
  const unit = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function one(v: unknown): Obj {
  if (!Array.isArray(v) || v.length !== 1) throw new Error(`expected one block, got ${JSON.stringify(v)}`);
  return v[0] as Obj;
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown): number {
  if (typeof v !== 'number') throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function strings(o: Obj): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)]));
}
