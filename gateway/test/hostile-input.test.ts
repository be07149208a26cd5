import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/**
 * Hostile requests: every one gets a clean 4xx (the API.md error body, no stack trace) or succeeds;
 * none gets a 5xx. Random bodies are in fuzz.test.ts.
 */
describe('hostile input', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_BODY_LIMIT_BYTES: '65536', CRUCIBLE_CORS_ORIGINS: 'https://lab.example' } });
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  function clean4xx(res: { status: number; json: any; text: string }, status: number, what: string) {
    assert.equal(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
    assert.equal(typeof res.json?.error?.code, 'string', what);
    assert.doesNotMatch(res.text, /\bat .+\.(ts|js):\d+|node_modules/, `${what}: no stack trace`);
  }

  it('refuses oversized, wrongly typed and deeply nested bodies with field-level details', async () => {
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: 'x'.repeat(70_000) }), 413, 'oversized');
    const typed = await p.request('POST', '/v1/evaluations', { language: 7, code: ['x'], limits: { timeoutMs: 'soon' }, priority: 'urgent' });
    clean4xx(typed, 400, 'wrong types');
    const fields = typed.json.error.details.map((d: { field: string }) => d.field);
    for (const f of ['language', 'code', 'limits.timeoutMs', 'priority']) assert.ok(fields.includes(f), `${f} in ${fields}`);
    let nested: unknown = 'deep';
    for (let i = 0; i < 40; i++) nested = { a: nested };
    const deep = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', metadata: nested });
    clean4xx(deep, 400, 'deep nesting');
    assert.match(deep.json.error.message, /nests deeper/);
    clean4xx(await p.request('POST', '/v1/evaluations', `${'['.repeat(50_000)}${']'.repeat(10_000)}`), 400, 'unbalanced deep arrays');
    clean4xx(await p.request('POST', '/v1/evaluations', JSON.stringify({ language: 'javascript', code: '1', args: Array(5000).fill('a') })), 400, 'huge array');
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', limits: { memoryMb: 1e9 } }), 400, 'limit above the maximum');
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', limits: { timeoutMs: -1 } }), 400, 'negative limit');
    clean4xx(await p.request('POST', '/v1/evaluations', '{"language":"javascript","code":"1","__proto__":{"admin":true}}'), 400, '__proto__');
    clean4xx(await p.request('POST', '/v1/evaluations', 'null'), 400, 'null body');
    clean4xx(await p.request('POST', '/v1/evaluations', '"just a string"'), 400, 'string body');
  });

  it('refuses traversal-named files and NUL characters anywhere', async () => {
    for (const name of ['../../etc/passwd', '/etc/passwd', '..', '.', 'a/b.js', 'a\\b.js', '', 'x'.repeat(300), 'main.js\u0000.py']) {
      clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', files: [{ name, content: '1' }] }), 400, `file name ${JSON.stringify(name)}`);
    }
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: 'console.log(1)\u0000' }), 400, 'NUL in code');
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', metadata: { 'k\u0000': 1 } }), 400, 'NUL in a key');
    clean4xx(await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1', stdin: '\u0000' }), 400, 'NUL in stdin');
    clean4xx(await p.request('GET', '/v1/evaluations?language=%00'), 400, 'NUL in the query');
    clean4xx(await p.request('GET', '/v1/evaluations?cursor=%E0%A4%A'), 400, 'broken percent-encoding');
    clean4xx(await p.request('GET', '/v1/evaluations/%00'), 400, 'NUL in the path');
    clean4xx(await p.request('GET', '/v1/evaluations/..%2F..%2Fetc%2Fpasswd'), 404, 'traversal in the id');
  });

  it('accepts and round-trips unicode-laden requests', async () => {
    const text = 'héllo 世界 🧪 \u202eevil\u202c \ud83d\ude00 \u200b';
    const res = await p.request('POST', '/v1/evaluations?wait=30', {
      language: 'javascript',
      code: `console.log(${JSON.stringify(text)}); console.log(stdin)`,
      stdin: 'ünïcødé ✓',
      args: ['∀x', '🚀'],
      metadata: { 'ключ': 'значение', emoji: '🔥', nested: { '中文': ['א', 'ب'] } },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.stdout, `${text}\nünïcødé ✓\n`);
    assert.deepEqual(res.json.metadata.nested, { '中文': ['א', 'ب'] });
    // A lone surrogate is valid JSON but not Unicode text (PostgreSQL's jsonb refuses it): a clean 400.
    const lone = await p.request('POST', '/v1/evaluations', '{"language":"javascript","code":"console.log(\\"\\ud800\\")"}');
    clean4xx(lone, 400, 'lone surrogate');
    assert.equal(lone.json.error.details[0].field, 'code');
  });

  it('refuses other content types (415) and methods without a route; sends security headers', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      clean4xx(await p.request('POST', '/v1/evaluations', 'language=javascript&code=1', { 'content-type': type }), 415, type);
    }
    const res = await p.request('GET', '/v1/evaluations');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS without an allowed Origin');
  });

  it('answers CORS only for configured origins', async () => {
    const allowed = await p.request('GET', '/v1/evaluations', undefined, { origin: 'https://lab.example' });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://lab.example');
    const other = await p.request('GET', '/v1/evaluations', undefined, { origin: 'https://evil.example' });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${p.url}/v1/evaluations`, {
      method: 'OPTIONS',
      headers: { origin: 'https://lab.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  });

  it('never answers 5xx to odd headers and methods', async () => {
    const odd: Record<string, string>[] = [
      { authorization: `Bearer ${'a'.repeat(5000)}` },
      { authorization: 'Bearer a.b.c' },
      { authorization: 'Bearer ....' },
      { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}..` },
      { 'x-request-id': 'a'.repeat(1000) },
      { 'last-event-id': '-99999999999999999999' },
    ];
    for (const headers of odd) {
      const res = await p.request('GET', '/v1/evaluations', undefined, headers);
      assert.ok(res.status < 500, `${JSON.stringify(headers).slice(0, 80)} → ${res.status}`);
    }
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await p.request(method, '/v1/evaluations');
      assert.ok(res.status >= 400 && res.status < 500, `${method} → ${res.status}`);
    }
    const allow = (await p.request('OPTIONS', '/v1/evaluations')).headers.get('allow') ?? '';
    assert.deepEqual(allow.split(', ').sort(), ['GET', 'HEAD', 'POST']);
  });
});
