/**
 * Generates src/nomad/executor-job.generated.ts from jobs/crucible-executor.nomad.hcl, so the JSON
 * the scheduler registers is the HCL operators deploy, not a second copy. Run in the build
 * (scripts/lib/node.sh) and by `npm run gen:nomad -w scheduler`; test/nomad/jobs.test.ts checks
 * the committed file matches.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jobspecToJson } from './jobspec.js';

export const HCL_PATH = resolve(import.meta.dirname, '../../jobs/crucible-executor.nomad.hcl');
export const OUT_PATH = resolve(import.meta.dirname, '../src/nomad/executor-job.generated.ts');

export async function generateExecutorJob(hcl = readFileSync(HCL_PATH, 'utf8')): Promise<string> {
  const job = await jobspecToJson('crucible-executor.nomad.hcl', hcl);
  return [
    '// Generated from jobs/crucible-executor.nomad.hcl by scheduler/scripts/executor-job.ts. Do not edit.',
    "import type { Job } from './api-types.js';",
    '',
    '/** The crucible-executor job with the HCL variables at their defaults; the driver fills in its own settings. */',
    `export const EXECUTOR_JOB: Readonly<Job> = ${JSON.stringify(job, null, 2)};`,
    '',
  ].join('\n');
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(OUT_PATH, await generateExecutorJob());
  console.log(`wrote ${OUT_PATH}`);
}
