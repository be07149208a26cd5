import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

describe('without a usable Docker engine the platform still runs Wasm languages', () => {
  let p: Platform;
  before(async () => {
    p = await Platform.start({ env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', CRUCIBLE_AGENTS: '1' } });
    await p.waitForLanguage('javascript');
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('says why python is unavailable and refuses it clearly', async () => {
    const langs = (await p.request('GET', '/v1/languages')).json as { id: string; available: boolean; reason?: string }[];
    const python = langs.find((l) => l.id === 'python')!;
    assert.equal(python.available, false);
    assert.match(python.reason ?? '', /Docker engine not reachable/);
    const res = await p.request('POST', '/v1/evaluations', { language: 'python', code: 'print(1)' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'language_unavailable');
  });

  it('runs javascript and is ready', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("wasm only")' });
    assert.equal(e.stdout, 'wasm only\n');
    const ready = await p.request('GET', '/readyz');
    assert.equal(ready.status, 200);
  });
});
