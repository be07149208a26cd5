/**
 * terraform/ without a Terraform binary: every .tf file parses (HashiCorp's HCL parser, via
 * hcl2json), every file it reads exists, module calls pass exactly the variables modules declare,
 * and the variables handed to each jobspec are ones the jobspec declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseHcl } from '../../scripts/jobspec.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const TF = join(ROOT, 'terraform');
type Obj = Record<string, any>;

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tfFiles(path);
    return name.endsWith('.tf') ? [path] : [];
  });
}

/** A module directory: its .tf files parsed and merged by top-level block type. */
async function loadModule(dir: string): Promise<Obj> {
  const merged: Obj = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf'))) {
    const parsed = await parseHcl(file, readFileSync(join(dir, file), 'utf8'));
    for (const [kind, blocks] of Object.entries(parsed)) {
      if (Array.isArray(blocks)) merged[kind] = [...(merged[kind] ?? []), ...blocks];
      else merged[kind] = { ...(merged[kind] ?? {}), ...(blocks as Obj) };
    }
  }
  return merged;
}

/** Resolves `${path.module}` and `${local.x}` (recursively) in a path expression. */
function resolvePath(expr: string, dir: string, locals: Obj): string {
  let out = expr;
  for (let i = 0; i < 5; i++) {
    out = out.replace(/\$\{path\.module\}/g, dir).replace(/\$\{local\.(\w+)\}/g, (_, n: string) => {
      const v = locals[n];
      assert.equal(typeof v, 'string', `local.${n} must be a string to resolve a path`);
      return v as string;
    });
  }
  return out;
}

const modules = ['modules/nomad-jobs', 'modules/observability', 'modules/cluster', 'environments/example'];

test('terraform/ has the three modules and the example environment, each with versions.tf', () => {
  for (const m of modules) assert.ok(existsSync(join(TF, m, 'versions.tf')), `${m}/versions.tf`);
  assert.ok(existsSync(join(TF, 'README.md')));
});

test('every .tf file parses', async () => {
  const files = tfFiles(TF);
  assert.ok(files.length >= 16, `found ${files.length}`);
  for (const file of files) await parseHcl(relative(TF, file), readFileSync(file, 'utf8'));
});

test('the example environment pins every provider to an exact version', async () => {
  const env = await loadModule(join(TF, 'environments/example'));
  const providers = env.terraform[0].required_providers[0] as Obj;
  assert.deepEqual(Object.keys(providers).sort(), ['aws', 'grafana', 'nomad']);
  for (const [name, p] of Object.entries(providers)) assert.match(p.version, /^\d+\.\d+\.\d+$/, `${name} pinned`);
  assert.equal(providers.nomad.source, 'hashicorp/nomad');
  assert.equal(providers.grafana.source, 'grafana/grafana');
});

test('every file a module reads exists (jobspecs, rules, dashboards, cloud-init)', async () => {
  let checked = 0;
  for (const m of modules) {
    const dir = join(TF, m);
    const mod = await loadModule(dir);
    const locals = Object.assign({}, ...((mod.locals ?? []) as Obj[]));
    const text = JSON.stringify(mod);
    for (const match of text.matchAll(/(?:file|templatefile)\(\\"([^"\\]+)\\"/g)) {
      // Per-item reads of a for_each over fileset(): checked with the fileset below.
      if (match[1]!.includes('${each.')) continue;
      const path = resolvePath(match[1]!, dir, locals);
      assert.ok(existsSync(path), `${m}: ${match[1]} → ${path} does not exist`);
      checked++;
    }
    for (const match of text.matchAll(/fileset\(local\.(\w+), \\"([^"\\]+)\\"\)/g)) {
      const path = resolvePath(locals[match[1]!], dir, locals);
      const ext = match[2]!.replace('*', '');
      const found = readdirSync(path).filter((f) => f.endsWith(ext));
      assert.ok(found.length > 0, `${m}: fileset over ${path} matches nothing`);
      // Each dashboard file must be a dashboard Grafana accepts.
      for (const f of found) {
        const dash = JSON.parse(readFileSync(join(path, f), 'utf8'));
        assert.ok(dash.title && dash.uid, `${f}: title and uid`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 8, `checked ${checked} references`);
});

test('nomad-jobs registers every job in jobs/, passing only variables each jobspec declares', async () => {
  const dir = join(TF, 'modules/nomad-jobs');
  const mod = await loadModule(dir);
  const locals = Object.assign({}, ...((mod.locals ?? []) as Obj[]));
  const jobs = mod.resource.nomad_job as Obj;
  const registered: string[] = [];
  for (const [name, [job]] of Object.entries(jobs) as [string, Obj[]][]) {
    const m = /file\(\\?"([^"\\]+)\\?"\)/.exec(JSON.stringify(job!.jobspec))!;
    const path = resolvePath(m[1]!, dir, locals);
    registered.push(path);
    const spec = await parseHcl(path, readFileSync(path, 'utf8'));
    const declared = Object.keys((spec.variable ?? {}) as Obj);
    const passed = Object.keys(job!.hcl2?.[0]?.vars ?? {});
    for (const v of passed) assert.ok(declared.includes(v), `nomad_job.${name} passes "${v}", which ${path} does not declare`);
  }
  const jobFiles = readdirSync(join(ROOT, 'jobs')).filter((f) => f.endsWith('.nomad.hcl'));
  assert.deepEqual(registered.map((p) => p.split('/').pop()).sort(), jobFiles.sort());
});

test('module calls pass declared variables and every required one', async () => {
  const env = await loadModule(join(TF, 'environments/example'));
  for (const [name, [call]] of Object.entries(env.module as Obj) as [string, Obj[]][]) {
    const dir = resolve(join(TF, 'environments/example'), call!.source);
    assert.ok(existsSync(dir), `module ${name}: ${call!.source}`);
    const mod = await loadModule(dir);
    const vars = mod.variable as Obj;
    const passed = Object.keys(call!).filter((k) => !['source', 'depends_on', 'providers'].includes(k));
    for (const k of passed) assert.ok(k in vars, `module ${name} passes unknown variable ${k}`);
    for (const [v, [decl]] of Object.entries(vars) as [string, Obj[]][]) {
      if (!('default' in decl!)) assert.ok(passed.includes(v), `module ${name} misses required variable ${v}`);
    }
  }
});

test('the cluster cloud-init template gets every value it interpolates, and configures the Docker plugin', async () => {
  const dir = join(TF, 'modules/cluster');
  const template = readFileSync(join(dir, 'cloud-init.yaml.tftpl'), 'utf8');
  const used = new Set([...template.matchAll(/\$\{(?:indent\(\d+, )?(\w+)\)?\}/g)].map((m) => m[1]!));
  const main = readFileSync(join(dir, 'main.tf'), 'utf8');
  const passed = /templatefile\([^,]+, \{([\s\S]*?)\}\)/.exec(main)![1]!;
  const given = new Set([...passed.matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]!));
  assert.deepEqual([...used].sort(), [...given].sort());
  assert.match(template, /allow_runtimes\s*=\s*\["runc", "runsc"\]/);
  assert.match(template, /plugin "raw_exec"/);
  assert.match(template, /crucible_executor = "true"/, 'the executor job constraint is met by these nodes');
});
