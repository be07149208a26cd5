import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXECUTOR_JOB } from '../../src/nomad/executor-job.generated.js';
import { generateExecutorJob, OUT_PATH } from '../../scripts/executor-job.js';
import { jobspecToJson, parseHcl } from '../../scripts/jobspec.js';
import { SpecValidator } from './fake-nomad/spec-validator.js';

const JOBS = resolve(import.meta.dirname, '../../../jobs');
const specs = readdirSync(JOBS).filter((f) => f.endsWith('.nomad.hcl'));
type Obj = Record<string, any>;

test('jobs/ holds the five job specifications', () => {
  assert.deepEqual(specs.sort(), ['crucible-executor.nomad.hcl', 'crucible-gateway.nomad.hcl', 'crucible-scheduler.nomad.hcl', 'grafana.nomad.hcl', 'prometheus.nomad.hcl']);
});

for (const file of specs) {
  test(`${file} parses as HCL and declares the job it is named after`, async () => {
    const raw = await parseHcl(file, readFileSync(join(JOBS, file), 'utf8'));
    const jobs = Object.keys(raw.job as Obj);
    assert.deepEqual(jobs, [file.replace('.nomad.hcl', '')]);
    const job = (raw.job as Obj)[jobs[0]!][0] as Obj;
    // Every ${var.x} names a declared variable.
    const declared = new Set(Object.keys((raw.variable ?? {}) as Obj));
    for (const m of JSON.stringify(job).matchAll(/\$\{var\.(\w+)\}/g)) assert.ok(declared.has(m[1]!), `${file}: var.${m[1]} is not declared`);
    if (job.type === 'service') {
      // Service jobs are health-checked.
      for (const group of Object.values(job.group as Obj).flat() as Obj[]) {
        const checks = (group.service as Obj[]).flatMap((s) => s.check ?? []);
        assert.ok(checks.length > 0, `${file}: service without a health check`);
      }
    }
  });
}

test('the scheduler registers exactly what jobs/crucible-executor.nomad.hcl says (generated in the build)', async () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), await generateExecutorJob(), 'run `npm run gen:nomad -w scheduler`');
  assert.deepEqual(EXECUTOR_JOB, await jobspecToJson('x', readFileSync(join(JOBS, 'crucible-executor.nomad.hcl'), 'utf8')));
});

test('the executor job is a valid Nomad Job and matches what the driver dispatches', () => {
  assert.deepEqual(new SpecValidator().checkSchema('Job', EXECUTOR_JOB), []);
  assert.equal(EXECUTOR_JOB.Type, 'batch');
  assert.deepEqual(EXECUTOR_JOB.ParameterizedJob?.MetaRequired, ['lane']);
  assert.deepEqual(EXECUTOR_JOB.ParameterizedJob?.MetaOptional, ['max_tasks', 'idle_timeout_ms']);
  const task = EXECUTOR_JOB.TaskGroups![0]!.Tasks![0]!;
  // Every NOMAD_META_ the task reads is dispatch meta the job permits, or has a job default.
  const permitted = new Set([...EXECUTOR_JOB.ParameterizedJob!.MetaRequired!, ...EXECUTOR_JOB.ParameterizedJob!.MetaOptional!]);
  for (const m of JSON.stringify(task.Env).matchAll(/NOMAD_META_(\w+)/g)) assert.ok(permitted.has(m[1]!), m[1]);
  for (const key of EXECUTOR_JOB.ParameterizedJob!.MetaOptional!) assert.ok(EXECUTOR_JOB.Meta?.[key] !== undefined, `${key} has no default`);
  assert.equal(task.KillTimeout, 45e9, 'durations are nanoseconds');
  assert.equal(EXECUTOR_JOB.TaskGroups![0]!.ReschedulePolicy?.Attempts, 0, 'the scheduler, not Nomad, replaces lost agents');
});

test('the JSON generator refuses HCL it cannot represent instead of dropping it', async () => {
  await assert.rejects(jobspecToJson('x.hcl', 'job "x" {\n  vault {\n    policies = ["a"]\n  }\n}\n'), /"vault" is not supported/);
  await assert.rejects(jobspecToJson('x.hcl', 'job "x" {\n  type = var.nope\n}\n'), /undefined variable var.nope/);
  await assert.rejects(parseHcl('bad.hcl', 'job "x" {\n  type = \n}\n'), /bad.hcl/);
});
