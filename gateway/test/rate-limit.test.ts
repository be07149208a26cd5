import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Platform } from './platform.js';

/** Rate limits per key (separate submit and read budgets), the per-user cap, and failed-auth throttling. */
describe('rate limits', () => {
  let p: Platform;
  let other: string;

  before(async () => {
    p = await Platform.start({
      env: {
        // No agent: submissions stay queued, so the unfinished cap is reached deterministically.
        CRUCIBLE_AGENTS: '0',
        CRUCIBLE_RATE_READ_BURST: '10',
        CRUCIBLE_RATE_READ_PER_SECOND: '0.5',
        CRUCIBLE_RATE_SUBMIT_BURST: '5',
        CRUCIBLE_RATE_SUBMIT_PER_SECOND: '0.1',
        CRUCIBLE_RATE_AUTH_BURST: '5',
        CRUCIBLE_RATE_AUTH_PER_SECOND: '0.1',
        CRUCIBLE_MAX_ACTIVE_EVALUATIONS: '3',
      },
    });
    const user = await p.request('POST', '/v1/users', { name: 'other', role: 'researcher' });
    other = (await p.request('POST', `/v1/users/${user.json.id}/keys`)).json.key;
  });
  after(async () => p?.[Symbol.asyncDispose]());

  it('answers a flood of reads with 429 rate_limited, Retry-After and RateLimit headers; other keys are unaffected', async () => {
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await p.request('GET', '/v1/queue', undefined, { authorization: `Bearer ${other}` }));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    assert.ok(ok.length >= 10 && ok.length < 14, `about the burst passes: ${ok.length}`);
    assert.ok(limited.length >= 16, `the rest is refused: ${limited.length}`);
    assert.equal(results.filter((r) => r.status !== 200 && r.status !== 429).length, 0);
    assert.equal(ok[0]!.headers.get('ratelimit-policy'), '"read";q=10;w=20');
    assert.match(ok[0]!.headers.get('ratelimit') ?? '', /^"read";r=\d+;t=\d+$/);
    const refused = limited[0]!;
    assert.equal(refused.json.error.code, 'rate_limited');
    assert.equal(refused.json.error.details.budget, 'read');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3, `Retry-After ${retryAfter}`);
    assert.match(refused.headers.get('ratelimit') ?? '', /^"read";r=0;/);
    // The admin's key has its own bucket.
    assert.equal((await p.request('GET', '/v1/queue')).status, 200);
  });

  it('keeps submissions on their own budget: spent reads do not block a submission, and submissions run out on their own', async () => {
    // Judged by the platform's own RateLimit header: a bucket never refills past its burst, so a
    // full one answers exactly burst - 1, whatever the timing.
    const submit = (key: string) => p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1' }, { authorization: `Bearer ${key}` });
    const read = (key: string) => p.request('GET', '/v1/queue', undefined, { authorization: `Bearer ${key}` });
    // This key spent its reads in the test above; still empty (refill is one per 2 s).
    const spent = await read(other);
    assert.match(spent.headers.get('ratelimit') ?? '', /^"read";r=0;/, `${spent.status} ${spent.headers.get('ratelimit')}`);
    const first = await submit(other);
    assert.equal(first.status, 202, first.text);
    assert.equal(first.headers.get('ratelimit-policy'), '"submit";q=5;w=50');
    assert.match(first.headers.get('ratelimit') ?? '', /^"submit";r=4;/, 'the submit budget is whole: reads took nothing from it');

    // The other way round, with a fresh key: spend its submissions, then its reads are whole.
    const user = await p.request('POST', '/v1/users', { name: 'submitter', role: 'researcher' });
    const key = (await p.request('POST', `/v1/users/${user.json.id}/keys`)).json.key as string;
    const refusals: string[] = [];
    for (let i = 0; i < 10 && !refusals.includes('submit'); i++) {
      const r = await submit(key);
      if (r.status === 429) refusals.push(r.json.error.details.budget);
      else assert.equal(r.status, 202, r.text);
    }
    assert.ok(refusals.includes('submit'), `submissions ran out: ${refusals.join(',')}`);
    const after = await read(key);
    assert.equal(after.status, 200);
    assert.match(after.headers.get('ratelimit') ?? '', /^"read";r=9;/, 'the read budget is whole: submissions took nothing from it');
  });

  it('caps unfinished evaluations per user (429 with budget "concurrency"), counting every item of a batch', async () => {
    const h = { authorization: `Bearer ${p.adminKey}` };
    for (let i = 0; i < 3; i++) assert.equal((await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1' }, h)).status, 202);
    const over = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1' }, h);
    assert.equal(over.status, 429);
    assert.equal(over.json.error.details.budget, 'concurrency');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    const batch = await p.request('POST', '/v1/evaluations/batch', { evaluations: [{ language: 'javascript', code: '1' }] }, h);
    assert.equal(batch.status, 429, 'a batch is refused as a whole when it would go over');
  });

  it('runs the submit budget out: 429 after the burst', async () => {
    // The admin has submitted 3 (+2 refused by the cap, which spent tokens too) of a burst of 5.
    const res = await p.request('POST', '/v1/evaluations', { language: 'javascript', code: '1' });
    assert.equal(res.status, 429);
    assert.equal(res.json.error.details.budget, 'submit');
  });

  it('throttles repeated failed authentications from one address', async () => {
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await p.request('GET', '/v1/evaluations', undefined, { authorization: `Bearer crk_guess${String(i).padStart(16, '0')}` })).status);
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(statuses.slice(6).every((s) => s === 429), `${statuses}`);
    const metrics = (await p.request('GET', '/metrics')).text;
    for (const budget of ['read', 'submit', 'concurrency', 'auth']) {
      assert.match(metrics, new RegExp(`^crucible_rate_limited_requests_total\\{budget="${budget}"\\} [1-9]`, 'm'), budget);
    }
  });
});
