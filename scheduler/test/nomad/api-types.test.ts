import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generate, OUT_PATH } from '../../scripts/nomad-types.js';
import { SPEC_PATH } from './fake-nomad/spec-validator.js';

test('src/nomad/api-types.ts is what the OpenAPI specification generates', () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), generate(readFileSync(SPEC_PATH, 'utf8')), 'run `npm run gen:nomad -w scheduler`');
});

// The vendored copy exists so a clean clone needs nothing beside it; where the project's shared
// reference is present too, the two must be the same file.
const SHARED = resolve(import.meta.dirname, '../../../../shared/nomad/openapi.yaml');
test('the vendored specification is the shared reference, unmodified', { skip: !existsSync(SHARED) && 'no ../shared beside this checkout' }, () => {
  assert.ok(readFileSync(SPEC_PATH).equals(readFileSync(SHARED)), `${SPEC_PATH} differs from ${SHARED}`);
});
