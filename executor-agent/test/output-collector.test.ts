import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeOutput } from '@crucible/storage/domain';
import { OutputCollector } from '../src/sandbox/output-collector.js';

// Every kind of UTF-8 edge: complete 2-, 3- and 4-byte characters, truncated ones, invalid lead
// and continuation bytes, overlongs, CESU-8 surrogates, NUL.
const SAMPLE = Buffer.from('61c3a9e282acf09f9880c3e282f09f98ff80c0afeda080f4908080000a41', 'hex');

/** Pushes `parts` through a collector; returns what the listener got and the collector itself. */
function collect(parts: Buffer[], cap = 1 << 20) {
  const chunks: Buffer[] = [];
  const c = new OutputCollector('stdout', cap, (_, chunk) => chunks.push(Buffer.from(chunk)));
  for (const part of parts) c.push(part);
  const fields = OutputCollector.fields(c, new OutputCollector('stderr', cap));
  return { chunks, fields };
}

describe('OutputCollector: exact bytes, chunks that never split a character', () => {
  it('forwards and keeps the exact bytes, wherever the engine split them (every split into three)', () => {
    for (let i = 0; i <= SAMPLE.length; i++) {
      for (let j = i; j <= SAMPLE.length; j++) {
        const { chunks, fields } = collect([SAMPLE.subarray(0, i), SAMPLE.subarray(i, j), SAMPLE.subarray(j)]);
        assert.equal(Buffer.concat(chunks).toString('hex'), SAMPLE.toString('hex'));
        assert.equal(fields.stdoutBase64, SAMPLE.toString('base64'));
        // Each chunk decodes on its own to its share of the whole text: SSE chunks join up exactly.
        assert.equal(chunks.map((c) => decodeOutput(c)).join(''), decodeOutput(SAMPLE), `split at ${i}, ${j}`);
        assert.equal(fields.stdout, decodeOutput(SAMPLE));
      }
    }
  });

  it('cuts at the byte cap, never inside a character, and forwards what it holds at the cap', () => {
    const euro = Buffer.from('€€€', 'utf8'); // 3 bytes each
    const { chunks, fields } = collect([euro.subarray(0, 4), euro.subarray(4)], 7);
    assert.equal(fields.stdout, '€€');
    assert.equal(fields.stdoutTruncated, true);
    assert.equal(Buffer.concat(chunks).toString(), '€€');
  });
});
