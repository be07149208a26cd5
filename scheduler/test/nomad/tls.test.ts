import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomadClient } from '../../src/nomad/client.js';
import { NomadUnreachableError } from '../../src/nomad/errors.js';
import { FakeNomad } from './fake-nomad/fake-nomad.js';

/** A throwaway CA with a server certificate (as Nomad's `server.global.nomad`) and a client one, made with openssl. */
function pki(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test nomad CA');
  for (const [name, san] of [
    ['server', 'DNS:server.global.nomad,IP:127.0.0.1'],
    ['client', 'DNS:cli.global.nomad'],
  ] as const) {
    ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key') };
}

test('TLS: the client verifies Nomad against the CA and presents its client certificate', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nomad-tls-'));
  try {
    const p = pki(dir);
    await using fake = await FakeNomad.start({ tls: { cert: p.serverCert, key: p.serverKey, ca: p.ca } });
    fake.state.addNode('tls-node');
    const good = new NomadClient({ address: fake.address, tls: { ca: p.ca, cert: p.clientCert, key: p.clientKey, serverName: 'server.global.nomad' } });
    assert.deepEqual((await good.nodes()).value.map((n) => n.Name), ['tls-node']);

    // Without a client certificate the server refuses the handshake.
    const noCert = new NomadClient({ address: fake.address, retries: 0, tls: { ca: p.ca, serverName: 'server.global.nomad' } });
    await assert.rejects(noCert.nodes(), NomadUnreachableError);
    // Without the CA, the server's certificate is not trusted.
    const noCa = new NomadClient({ address: fake.address, retries: 0, tls: { cert: p.clientCert, key: p.clientKey, serverName: 'server.global.nomad' } });
    await assert.rejects(noCa.nodes(), (e: unknown) => e instanceof NomadUnreachableError && /certificate/i.test(e.message));
    assert.deepEqual(fake.violations, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
