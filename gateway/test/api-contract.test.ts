import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/** Every error must be the API.md body: a stable code, a sentence, never a stack trace. */
function assertErrorBody(res: { json: any; text: string }, code: string): void {
  assert.equal(res.json?.error?.code, code, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.doesNotMatch(res.text, /\bat .+\.(ts|js):\d+/, 'no stack trace');
}

describe('API contract: bad input, platform endpoints', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_BODY_LIMIT_BYTES: '65536' } });
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('rejects an unknown language', async () => {
    const res = await p.request('POST', '/v1/evaluations', { language: 'cobol', code: 'x' });
    assert.equal(res.status, 400);
    assertErrorBody(res, 'unknown_language');
    assert.equal(res.json.error.details.field, 'language');
  });

  it('rejects malformed JSON', async () => {
    const res = await p.request('POST', '/v1/evaluations', '{"language": "python", "code": ');
    assert.equal(res.status, 400);
    assertErrorBody(res, 'invalid_json');
  });

  it('answers 404 for an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '../../etc/passwd']) {
      const res = await p.request('GET', `/v1/evaluations/${encodeURIComponent(id)}`);
      assert.equal(res.status, 404);
      assertErrorBody(res, 'not_found');
    }
    const events = await p.request('GET', '/v1/evaluations/00000000-0000-4000-8000-000000000000/events');
    assert.equal(events.status, 404);
    assertErrorBody(events, 'not_found');
  });

  it('rejects schema violations with field-level details', async () => {
    const cases: [unknown, string][] = [
      [{ language: 'python' }, ''],
      [{ language: 'python', code: 'x', files: [{ name: 'a.py', content: 'x' }] }, ''],
      [{ language: 'python', code: 'x', surprise: true }, 'surprise'],
      [{ language: 'python', code: 'x', limits: { timeoutMs: -1 } }, 'limits.timeoutMs'],
      [{ language: 'python', code: 'x', priority: 'urgent' }, 'priority'],
      [{ language: 'python', files: [{ name: '../escape.py', content: 'x' }] }, 'files.0.name'],
      [[1, 2, 3], ''],
    ];
    for (const [body, field] of cases) {
      const res = await p.request('POST', '/v1/evaluations', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assertErrorBody(res, 'invalid_request');
      assert.ok(Array.isArray(res.json.error.details));
      if (field) assert.ok(res.json.error.details.some((d: { field: string }) => d.field === field), `${field} in ${res.text}`);
    }
  });

  it('rejects limits above the server maximum instead of clamping', async () => {
    const res = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'x', limits: { memoryMb: 100_000 } });
    assert.equal(res.status, 400);
    assertErrorBody(res, 'invalid_request');
    assert.equal(res.json.error.details.field, 'limits.memoryMb');
  });

  it('rejects a runtime the language does not run in', async () => {
    const res = await p.request('POST', '/v1/evaluations', { language: 'python', runtime: 'wasm', code: 'print(1)' });
    assert.equal(res.status, 400);
    assertErrorBody(res, 'invalid_request');
  });

  it('answers 415 for a non-JSON body and 413 for an oversized one', async () => {
    const form = await p.request('POST', '/v1/evaluations', undefined, {});
    assert.equal(form.status, 400, 'an empty body is invalid');
    const text = await fetch(`${p.url}/v1/evaluations`, { method: 'POST', headers: { ...p.auth(), 'content-type': 'text/plain' }, body: 'print(1)' });
    assert.equal(text.status, 415);
    assertErrorBody({ json: await text.json(), text: '' }, 'unsupported_media_type');
    const big = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'x'.repeat(100_000) });
    assert.equal(big.status, 413);
    assertErrorBody(big, 'payload_too_large');
  });

  it('answers unknown routes and bad query parameters with the error body', async () => {
    const route = await p.request('GET', '/v1/nothing-here');
    assert.equal(route.status, 404);
    assertErrorBody(route, 'not_found');
    const wait = await p.request('POST', '/v1/evaluations?wait=9999', { language: 'javascript', code: '1' });
    assert.equal(wait.status, 400);
    assertErrorBody(wait, 'invalid_request');
    const cursor = await p.request('GET', '/v1/evaluations?cursor=%%%garbage');
    assert.equal(cursor.status, 400);
    assertErrorBody(cursor, 'invalid_request');
  });

  it('returns and echoes X-Request-Id', async () => {
    const mine = await p.request('GET', '/healthz', undefined, { 'x-request-id': 'trace-123' });
    assert.equal(mine.headers.get('x-request-id'), 'trace-123');
    const fresh = await p.request('GET', '/healthz', undefined, { 'x-request-id': 'bad id with spaces' });
    assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('lists languages with availability', async () => {
    const res = await p.request('GET', '/v1/languages');
    assert.equal(res.status, 200);
    const ids = res.json.map((l: { id: string }) => l.id);
    assert.deepEqual(ids.sort(), ['bash', 'c', 'cpp', 'javascript', 'javascript-node', 'python', 'python-ml', 'wasm']);
    for (const l of res.json) {
      assert.equal(typeof l.available, 'boolean');
      assert.ok(['container', 'wasm'].includes(l.runtime));
      if (!l.available) assert.ok(l.reason, `${l.id} says why it is unavailable`);
    }
    assert.equal(res.json.find((l: { id: string }) => l.id === 'javascript').available, true);
  });

  it('reports the queue, health, readiness and metrics', async () => {
    const queue = await p.request('GET', '/v1/queue');
    assert.equal(queue.status, 200);
    assert.deepEqual(queue.json.lanes.map((l: { name: string }) => l.name), ['high', 'normal', 'low']);
    assert.equal(queue.json.driver, 'local');
    assert.equal(queue.json.agents.length, 1);
    assert.equal((await p.request('GET', '/healthz')).status, 200);
    const ready = await p.request('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.equal(ready.json.checks.postgres.ok, true);
    await p.run({ language: 'javascript', code: 'console.log(1)' });
    const metrics = await p.request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^crucible_queue_depth\{lane="normal"\} \d+$/m);
    assert.match(metrics.text, /^crucible_evaluations_accepted_total\{language="javascript",runtime="wasm"\} [1-9]/m);
    assert.match(metrics.text, /^crucible_evaluations_finished_total\{.*outcome="success".*\} [1-9]/m);
    const timedOut = await p.run({ language: 'javascript', code: 'while (true) {}', limits: { timeoutMs: 500 } });
    assert.equal(timedOut.outcome, 'timeout');
    const after = (await p.request('GET', '/metrics')).text;
    for (const line of [
      /^crucible_sandbox_limit_kills_total\{kind="timeout"\} [1-9]/m,
      /^crucible_evaluation_e2e_duration_seconds_count\{runtime="wasm"\} [2-9]/m,
      /^crucible_evaluation_queue_wait_seconds_count\{runtime="wasm"\} [2-9]/m,
      /^crucible_evaluation_run_duration_seconds_count\{runtime="wasm"\} [2-9]/m,
      /^crucible_sandbox_start_duration_seconds_count\{runtime="wasm"\} [2-9]/m,
      /^crucible_agents\{lane="normal",state="idle"\} 1$/m,
      /^crucible_language_available\{language="javascript",runtime="wasm"\} 1$/m,
      /^crucible_queue_running\{lane="normal"\} 0$/m,
      /^crucible_dead_letter_size 0$/m,
      /^crucible_build_info\{version="[0-9.]+",node_version="v20[^"]*"\} 1$/m,
      /^crucible_http_request_duration_seconds_count\{route="\/v1\/evaluations",method="POST",status="201"\} [1-9]/m,
      /^process_cpu_seconds_total /m,
    ]) {
      assert.match(after, line);
    }
  });

  it('serves an OpenAPI document that matches the routes and validation', async () => {
    const res = await p.request('GET', '/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.equal(res.json.openapi, '3.1.0');
    for (const path of ['/v1/evaluations', '/v1/evaluations/{id}', '/v1/evaluations/{id}/cancel', '/v1/evaluations/{id}/events',
      '/v1/evaluations/batch', '/v1/languages', '/v1/queue', '/healthz', '/readyz', '/metrics']) {
      assert.ok(res.json.paths[path], `${path} documented`);
    }
    // The schema served is the one enforced: a field it does not list is rejected.
    const props = Object.keys(res.json.components.schemas.EvaluationRequest.properties).sort();
    assert.deepEqual(props, ['args', 'code', 'containerRuntime', 'files', 'language', 'limits', 'metadata', 'priority', 'runtime', 'stdin']);
    assert.equal(res.json.components.schemas.EvaluationRequest.additionalProperties, false);
  });
});
