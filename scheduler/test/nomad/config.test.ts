import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';

test('CRUCIBLE_DRIVER=nomad reads the NOMAD_* settings with defaults; bad values fail loudly', () => {
  const local = loadConfig({});
  assert.equal(local.driver, 'local');
  assert.equal(local.nomad, undefined);

  const c = loadConfig({ CRUCIBLE_DRIVER: 'nomad', NOMAD_ADDR: 'https://nomad.example:4646', NOMAD_TOKEN: 't', NOMAD_NAMESPACE: 'crucible', NOMAD_CACERT: '/tls/ca.pem' });
  assert.equal(c.driver, 'nomad');
  assert.equal(c.nomad?.address, 'https://nomad.example:4646');
  assert.equal(c.nomad?.token, 't');
  assert.equal(c.nomad?.namespace, 'crucible');
  assert.equal(c.nomad?.caCert, '/tls/ca.pem');
  assert.equal(c.nomad?.jobId, 'crucible-executor');
  assert.deepEqual(c.nomad?.lanes, ['high', 'normal', 'low']);
  assert.equal(c.nomad?.idleTimeoutMs, 60_000);
  assert.equal(c.nomad?.registerJob, true);
  // TLS files only mean something for https.
  assert.equal(loadConfig({ CRUCIBLE_DRIVER: 'nomad', NOMAD_CACERT: '/tls/ca.pem' }).nomad?.caCert, undefined);

  assert.throws(() => loadConfig({ CRUCIBLE_DRIVER: 'kubernetes' }), /CRUCIBLE_DRIVER must be "local" or "nomad"/);
  assert.throws(() => loadConfig({ CRUCIBLE_DRIVER: 'nomad', NOMAD_ADDR: 'nomad:4646' }), /NOMAD_ADDR must start with http/);
  assert.throws(() => loadConfig({ CRUCIBLE_DRIVER: 'nomad', CRUCIBLE_NOMAD_LANES: 'urgent' }), /unknown lane "urgent"/);
  assert.throws(() => loadConfig({ CRUCIBLE_DRIVER: 'nomad', CRUCIBLE_NOMAD_MIN_AGENTS: '5', CRUCIBLE_NOMAD_MAX_AGENTS: '2' }), /MAX_AGENTS must be ≥/);
  assert.throws(() => loadConfig({ CRUCIBLE_DRIVER: 'nomad', CRUCIBLE_MAX_CPUS: 'lots' }), /CRUCIBLE_MAX_CPUS must be a positive number/);
});
