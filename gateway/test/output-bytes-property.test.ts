/**
 * Output is data, whatever its bytes (issue 12), as a property: arbitrary byte strings written by
 * a program travel the whole path — sandbox, agent, reports in Redis, collector, storage, API
 * JSON, base64 reads, SSE — and come back exactly (base64) and as the documented text (UTF-8
 * decoding, U+FFFD for invalid sequences, NUL kept), on PGlite and on PostgreSQL, for the
 * container sandbox (python) and both Wasm engines (a WASI module, QuickJS).
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import knex from 'knex';
import { Platform } from './platform.js';
import { assertOutputRoundTrip, hostileBytes, hostileStrings, pythonWriting, quickJsPrinting, utf8Of, wasiWriting } from './output-bytes.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Modest: each run is a whole evaluation. Shrinking stays on, so a failure is reported small.
const RUNS = 15;

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`output bytes round-trip on ${backend} (property)`, () => {
    const database = `crucible_bytes_${randomBytes(4).toString('hex')}`;
    const admin = backend === 'postgres' ? knex({ client: 'pg', connection: ADMIN_URL }) : undefined;
    let p: Platform;

    before(async () => {
      const env: Record<string, string> = { CRUCIBLE_AGENTS: '2' };
      if (admin) {
        await admin.raw(`CREATE DATABASE ${database}`);
        const url = new URL(ADMIN_URL);
        url.pathname = `/${database}`;
        env.DATABASE_URL = url.toString();
      }
      p = await Platform.start({ env });
      await Promise.all([p.waitForLanguage('python'), p.waitForLanguage('wasm'), p.waitForLanguage('javascript')]);
    });
    after(async () => {
      await p?.[Symbol.asyncDispose]();
      if (admin) {
        await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.destroy();
      }
    });

    it('container (python writing bytes): exact bytes back, text as documented', async () => {
      await fc.assert(
        fc.asyncProperty(hostileBytes(), hostileBytes(), (out, err) => assertOutputRoundTrip(p, pythonWriting(out, err), out, err)),
        { numRuns: RUNS },
      );
    });

    it('wasm (a WASI module writing bytes): exact bytes back, text as documented', async () => {
      await fc.assert(
        fc.asyncProperty(hostileBytes(), hostileBytes(), (out, err) => assertOutputRoundTrip(p, wasiWriting(out, err), out, err)),
        { numRuns: RUNS },
      );
    });

    it('wasm (QuickJS printing strings: NUL, lone surrogates): their UTF-8 back, nothing dropped', async () => {
      await fc.assert(
        fc.asyncProperty(hostileStrings(), hostileStrings(), (out, err) =>
          assertOutputRoundTrip(p, quickJsPrinting(out, err), utf8Of(`${out}\n`), utf8Of(`${err}\n`)),
        ),
        { numRuns: RUNS },
      );
    });
  });
}
