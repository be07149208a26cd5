import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { waitFor } from './helpers.js';
import { Platform } from './platform.js';

/** One evaluation traced end to end by its request id through the JSON logs; no secret or code in them. */
describe('structured logs with request ids', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ captureLogs: true, env: { CRUCIBLE_LOG_LEVEL: 'info', CRUCIBLE_AGENTS: '1' } });
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  const lines = () =>
    p.logs.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('carries an incoming X-Request-Id from the gateway into the agent that runs the evaluation', async () => {
    const requestId = `trace-${randomBytes(6).toString('hex')}`;
    const marker = `CODE_MARKER_${randomBytes(6).toString('hex')}`;
    const res = await p.request('POST', '/v1/evaluations?wait=30', { language: 'javascript', code: `console.log("${marker}")`, stdin: marker }, { 'x-request-id': requestId });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('x-request-id'), requestId);
    // Logs are written asynchronously (pino), by two processes: wait for both lines.
    await waitFor(async () => {
      const mine = lines().filter((l) => l.requestId === requestId);
      return mine.some((l) => l.msg === 'task finished') && mine.some((l) => l.msg === 'request');
    });
    const traced = lines().filter((l) => l.requestId === requestId);
    const request = traced.find((l) => l.msg === 'request');
    assert.ok(request, 'the gateway logged the request');
    assert.deepEqual([request.method, request.route, request.status], ['POST', '/v1/evaluations', 201]);
    assert.equal(typeof request.user, 'string', 'with the user it acted as');
    assert.ok(traced.some((l) => l.msg === 'task started' && l.evaluationId === res.json.id), 'the agent logged the start with the same id');
    assert.ok(!p.logs.includes(marker), 'submitted code and stdin are never logged');
  });

  it('never logs keys or tokens, not even refused ones', async () => {
    const wrong = `crk_${randomBytes(20).toString('hex')}`;
    await p.request('GET', '/v1/evaluations', undefined, { authorization: `Bearer ${wrong}` });
    const pair = (await p.request('POST', '/v1/auth/token')).json;
    await p.request('GET', '/v1/evaluations', undefined, { authorization: `Bearer ${pair.accessToken}` });
    await p.request('POST', '/v1/auth/refresh', { refreshToken: pair.refreshToken }, { authorization: '' });
    await waitFor(async () => lines().filter((l) => l.route === '/v1/auth/refresh').length > 0);
    for (const secret of [wrong, p.adminKey, pair.accessToken, pair.refreshToken]) assert.ok(!p.logs.includes(secret));
    assert.doesNotMatch(p.logs, /Bearer /);
  });
});
