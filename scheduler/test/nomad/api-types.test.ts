import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generate, OUT_PATH } from '../../scripts/nomad-types.js';
import { SPEC_PATH } from './fake-nomad/spec-validator.js';

test('src/nomad/api-types.ts is what the OpenAPI specification generates', () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), generate(readFileSync(SPEC_PATH, 'utf8')), 'run `npm run gen:nomad -w scheduler`');
});
