import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Platform } from './platform.js';
import { DESKTOP, PHONE, assertQuiet, ensureSiteBuilt, launchBrowser, openPage, screenshot, signIn, type PageWatch } from './site-browser.js';

const SITE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const KEY = 'crk_site_test_0123456789';

/** The status site end to end, in Chromium, against a whole platform (python in Docker, Wasm). */
describe('status site', () => {
  let p: Platform;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  /** Authorization headers of every API request the page made. */
  const sent: (string | undefined)[] = [];
  /** Paths of the event streams the page opened. */
  const streams: string[] = [];

  before(async () => {
    ensureSiteBuilt();
    p = await Platform.start({ env: { CRUCIBLE_ADMIN_KEY: KEY } });
    await Promise.all([p.waitForLanguage('python'), p.waitForLanguage('javascript')]);
    browser = await launchBrowser();
    ({ page, watch } = await openPage(browser));
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/v1/')) sent.push(r.headers().authorization);
      if (path.endsWith('/events')) streams.push(path);
    });
  });
  /** Follows a link of the main navigation (an in-page route change, not a load). */
  const go = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  after(async () => {
    await browser?.close();
    await p?.[Symbol.asyncDispose]();
  });

  it('serves pages and assets under the site CSP; client routes get index.html; the API keeps its own CSP', async () => {
    for (const path of ['/', '/submit', '/history', `/evaluations/${crypto.randomUUID()}`]) {
      const res = await fetch(p.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('content-security-policy'), SITE_CSP);
      const html = await res.text();
      assert.doesNotMatch(html, /<script>|<style|style=/, 'no inline script or style');
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
      const js = await fetch(p.url + asset);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('cache-control')!, /immutable/);
      assert.equal(js.headers.get('content-security-policy'), SITE_CSP);
    }
    const api = await fetch(`${p.url}/v1/queue`);
    assert.equal(api.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    for (const path of ['/nothing-here', '/assets/../package.json', '/assets/%2e%2e/package.json', '/.source-hash']) {
      // Signed in, so the answer is about the path (anonymous requests outside the site get 401).
      const res = await fetch(p.url + path, { headers: p.auth() });
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    }
  });

  it('refuses a wrong key at sign-in', async () => {
    await page.goto(`${p.url}/sign-in`);
    await page.getByLabel('API key').fill('crk_wrong_key_000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/sign-in');
  });

  it('signs in by exchanging the API key for tokens that every request then carries', async () => {
    await page.goto(`${p.url}/sign-in`);
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${p.url}/`);
    await page.getByText('crk_site_tes…').waitFor();
    // The key is exchanged, not kept: the tab holds only tokens.
    assert.doesNotMatch(await page.evaluate('JSON.stringify(sessionStorage)'), new RegExp(KEY));
    sent.length = 0;
    await page.getByRole('heading', { name: 'Recent evaluations' }).waitFor();
    await page.waitForTimeout(2500); // one more poll
    assert.ok(sent.length >= 2);
    assert.ok(sent.every((h) => /^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(h ?? '')), `every request carries the access token: ${sent}`);
  });

  it('submits python with Ctrl+Enter and streams its output as it is printed', async () => {
    await go('Submit');
    await page.getByLabel('Language').selectOption('python');
    const code = 'import time\nprint("first line", flush=True)\ntime.sleep(3)\nprint("second line")\n';
    await page.locator('#code').fill(code);
    await screenshot(page, 'submit-desktop');
    await page.locator('#code').press('Control+Enter');
    await page.waitForURL(/\/evaluations\/[0-9a-f-]{36}$/);
    const stdout = page.locator('pre[data-stream="stdout"]');
    await stdout.filter({ hasText: 'first line' }).waitFor();
    // Streamed: the first line is there while the program still runs and the second is not.
    assert.equal(await page.locator('.badges .status-running').count(), 1);
    assert.doesNotMatch((await stdout.textContent())!, /second line/);
    await screenshot(page, 'evaluation-streaming');
    await page.locator('.badges .status-completed').waitFor();
    assert.equal(await stdout.textContent(), 'first line\nsecond line\n');
    assert.match((await page.getByTestId('exit').textContent())!, /Exited normally/);
    assert.deepEqual(await page.locator('.timeline .step-name').allTextContents(), ['queued', 'provisioning', 'running', 'completed']);
    assert.ok(sent.every((h) => /^Bearer eyJ/.test(h ?? '')), 'the event stream carries the access token too');
    await screenshot(page, 'evaluation-python');
    // After `done` the server closes the stream; the page must not reconnect and replay it.
    await page.waitForTimeout(2000);
    assert.equal(streams.filter((u) => u.includes(new URL(page.url()).pathname)).length, 1, 'one event stream, not reconnected');
  });

  it('indents with Tab in the editor, and Esc then Tab leaves it', async () => {
    await go('Submit');
    await page.getByLabel('Language').selectOption('python');
    const code = page.locator('#code');
    await code.fill('');
    await code.press('Tab');
    await code.pressSequentially('x');
    assert.equal(await code.inputValue(), '    x');
    await code.press('Shift+Tab');
    assert.equal(await code.inputValue(), 'x');
    await code.press('Escape');
    await code.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'stdin', 'focus moved on to the next field');
  });

  it('runs Wasm javascript with stdin, and re-runs it from this tab', async () => {
    await go('Submit');
    await page.getByLabel('Language').selectOption('javascript');
    await page.locator('#code').fill('console.log(`Hello, ${stdin.trim()}!`);\nconsole.error("to stderr");');
    await page.getByLabel('Standard input').fill('Ada');
    await page.getByRole('button', { name: /^Run/ }).click();
    await page.waitForURL(/\/evaluations\//);
    const first = page.url();
    await page.locator('.badges .outcome-success').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), 'Hello, Ada!\n');
    assert.equal(await page.locator('pre[data-stream="stderr"]').textContent(), 'to stderr\n');
    assert.deepEqual(await page.locator('.timeline .step-name').allTextContents(), ['queued', 'running', 'completed']);
    await screenshot(page, 'evaluation-javascript');
    await page.getByRole('button', { name: 'Re-run', exact: true }).click();
    await page.waitForURL((url) => url.href !== first && url.pathname.startsWith('/evaluations/'));
    await page.locator('.badges .outcome-success').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), 'Hello, Ada!\n');
  });

  it('sends several files, the first as main', async () => {
    await go('Submit');
    await page.getByLabel('Language').selectOption('python');
    await page.locator('#code').fill('import helper\nprint(helper.greet())\n');
    await page.getByRole('button', { name: '+ Add file' }).click();
    await page.getByLabel('File name').fill('helper.py');
    await page.locator('#code').fill('def greet():\n    return "hi from helper"\n');
    await page.locator('#code').press('Control+Enter');
    await page.waitForURL(/\/evaluations\//);
    await page.locator('.badges .status-completed').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), 'hi from helper\n');
  });

  it('cancels a long run', async () => {
    await go('Submit');
    await page.getByLabel('Language').selectOption('python');
    await page.locator('#code').fill('import time\nprint("started", flush=True)\ntime.sleep(25)\nprint("never")\n');
    await page.getByLabel('Time (ms)').fill('30000');
    await page.locator('#code').press('Control+Enter');
    await page.locator('pre[data-stream="stdout"]').filter({ hasText: 'started' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.badges .status-cancelled').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).waitFor({ state: 'detached' });
    assert.match((await page.getByTestId('exit').textContent())!, /cancel/i);
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), 'started\n', 'what it printed before stays');
    await screenshot(page, 'evaluation-cancelled');
  });

  it('updates the overview live, without reloading the page', async () => {
    await go('Overview');
    await page.getByRole('heading', { name: 'Agents' }).waitFor();
    // Strings, not functions: the tests are type-checked without the DOM library.
    await page.evaluate('window.stillHere = true');
    await waitUntil(() => streams.includes('/v1/events'));
    const e = await p.run({ language: 'javascript', code: 'console.log("from the API")' });
    // Well under the list's 10 s backup poll: the row arrives through the /v1/events feed.
    await page.locator(`tr[data-id="${e.id}"] .status-completed`).waitFor({ timeout: 5_000 });
    assert.equal(await page.evaluate('window.stillHere'), true);
    assert.notEqual(await page.getByTestId('agents').textContent(), '0');
    await screenshot(page, 'home-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'home-narrow');
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= PHONE.width, `no sideways scrolling of the whole page on a phone (${width}px)`);
    await page.setViewportSize(DESKTOP);
  });

  it('pages through history with the cursor and filters by status and language', async () => {
    const batch = await p.request('POST', '/v1/evaluations/batch', {
      evaluations: Array.from({ length: 30 }, (_, i) => ({ language: 'javascript', code: `console.log(${i})` })),
    });
    assert.equal(batch.status, 202);
    await go('History');
    await page.getByLabel('Language').selectOption('javascript');
    await page.waitForURL(/language=javascript/);
    const rows = page.locator('tbody tr');
    // The unfiltered page may also read "25 shown" before the filtered load replaces it: wait for
    // the filtered rows themselves.
    await waitUntilAsync(async () => {
      const languages = await page.locator('tbody tr td:nth-child(2)').allTextContents();
      return languages.length === 25 && languages.every((l) => l === 'javascript') && (await page.getByText('25 shown').count()) === 1;
    });
    assert.equal(await rows.count(), 25);
    await page.getByRole('button', { name: 'Load older' }).click();
    await page.getByText(/shown, no more/).waitFor();
    // 30 from the batch, 2 from the javascript test, 1 from the overview test.
    assert.equal(await rows.count(), 33);
    assert.deepEqual(new Set(await page.locator('tbody tr td:nth-child(2)').allTextContents()), new Set(['javascript']));
    await screenshot(page, 'history-desktop');
    await page.getByLabel('Language').selectOption('');
    await page.getByLabel('Status').selectOption('cancelled');
    await page.waitForURL(/status=cancelled/);
    await page.getByText('1 shown, no more').waitFor();
    assert.equal(await page.locator('tbody tr .status-cancelled').count(), 1);
    await page.setViewportSize(PHONE);
    await screenshot(page, 'history-narrow');
    await page.setViewportSize(DESKTOP);
  });

  it('reopens an evaluation from its link, and signs out', async () => {
    const e = await p.run({ language: 'javascript', code: 'console.log("linked")' });
    await page.goto(`${p.url}/evaluations/${e.id}`);
    await page.locator('.badges .status-completed').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), 'linked\n');
    assert.equal(await page.getByRole('button', { name: 'Re-run', exact: true }).isDisabled(), true, 'the API does not return code');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in$/);
    assert.equal(await page.evaluate("sessionStorage.getItem('crucible.session')"), null);
    await page.setViewportSize(PHONE);
    await page.goto(`${p.url}/submit`);
    await page.locator('#code').waitFor();
    await screenshot(page, 'submit-narrow');
    assertQuiet(watch);
  });
});

describe('status site: a session ends when its key is revoked', () => {
  let p: Platform;
  let browser: Browser;
  after(async () => {
    await browser?.close();
    await p?.[Symbol.asyncDispose]();
  });

  it('refreshes the access token before it expires, then is sent to sign in once the API answers 401', async () => {
    ensureSiteBuilt();
    // Access tokens live 4 s here, so the page must refresh while it polls.
    p = await Platform.start({ env: { CRUCIBLE_AGENTS: '0', CRUCIBLE_ACCESS_TOKEN_TTL_SECONDS: '4' } });
    browser = await launchBrowser();
    const { page } = await openPage(browser);
    const user = (await p.request('POST', '/v1/users', { name: 'site', role: 'researcher' })).json;
    const key = (await p.request('POST', `/v1/users/${user.id}/keys`)).json;
    await signIn(page, p.url, key.key);
    const refreshes: number[] = [];
    const tokens = new Set<string>();
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/v1/auth/refresh') refreshes.push(r.status());
    });
    page.on('request', (r) => {
      const auth = r.headers().authorization;
      if (auth && new URL(r.url()).pathname.startsWith('/v1/evaluations')) tokens.add(auth);
    });
    await page.getByRole('heading', { name: 'Recent evaluations' }).waitFor();
    await waitUntil(() => refreshes.length >= 2 && tokens.size >= 2, 20_000);
    assert.ok(refreshes.every((s) => s === 200), `refreshes: ${refreshes}`);
    assert.equal(new URL(page.url()).pathname, '/', 'still signed in');
    assert.equal((await p.request('DELETE', `/v1/keys/${key.id}`)).status, 204);
    await page.goto(`${p.url}/history`);
    await page.waitForURL(/\/sign-in\?next=%2Fhistory$/);
  });
});

async function waitUntil(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitUntilAsync(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
