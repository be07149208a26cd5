import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generate, OUT_PATH } from '../../scripts/nomad-types.js';
import { SPEC_PATH } from './fake-nomad/spec-validator.js';

test('src/nomad/api-types.ts is what the OpenAPI specification generates', () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), generate(readFileSync(SPEC_PATH, 'utf8')), 'run `npm run gen:nomad -w scheduler`');
});

// The vendored copy exists so a clean clone needs nothing beside it. It is pinned by the SHA-256
// of the shared reference (../shared/nomad/openapi.yaml, hashicorp/nomad-openapi v1 at Nomad
// 1.1.4), so the check runs on every checkout, not only where the shared reference is present.
const PINNED_SHA256 = '3c401ef1f743a629d0ba1b393994049d754743ecadb59a256b5cd74619bb9ea9';
const VENDORED = resolve(import.meta.dirname, '../../nomad-spec/openapi.yaml');
const SHARED = resolve(import.meta.dirname, '../../../../shared/nomad/openapi.yaml');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('the vendored specification is the pinned shared reference, unmodified', () => {
  assert.equal(sha256(VENDORED), PINNED_SHA256, `${VENDORED} differs from the reference it vendors (update the pin only with the shared copy)`);
  // Beside the shared reference (the project's own machines), it must still be the same file.
  if (existsSync(SHARED)) assert.equal(sha256(SHARED), PINNED_SHA256, `${SHARED} changed: vendor it again and update the pin`);
});
