import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Platform } from './platform.js';
import { assertQuiet, ensureSiteBuilt, launchBrowser, openPage, screenshot, signIn, type PageWatch } from './site-browser.js';

// A program's output is data. Each line below would run script if the site ever put output into
// the page as HTML: an attribute handler, a script element, an SVG handler, a javascript: URL.
const ATTACKS = [
  '<img src=x onerror="window.pwned = \'img\'; alert(\'img\')">',
  '<script>window.pwned = "script"; alert("script")</script>',
  '<svg onload="window.pwned = \'svg\'"></svg>',
  '"><iframe src="javascript:alert(\'iframe\')"></iframe>',
];
const PROGRAM = `${ATTACKS.map((a) => `console.log(${JSON.stringify(a)});`).join('\n')}\nconsole.error(${JSON.stringify(ATTACKS[0])});`;
const EXPECTED = ATTACKS.map((a) => `${a}\n`).join('');

describe('status site: output is rendered as text, never as HTML', () => {
  let p: Platform;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;

  before(async () => {
    ensureSiteBuilt();
    p = await Platform.start();
    await p.waitForLanguage('javascript');
    browser = await launchBrowser();
    ({ page, watch } = await openPage(browser));
    await signIn(page, p.url, p.adminKey);
  });
  after(async () => {
    await browser?.close();
    await p?.[Symbol.asyncDispose]();
  });

  /** Nothing ran, and no element came out of the output. */
  async function assertInert(): Promise<void> {
    await page.waitForTimeout(500); // an onerror or onload would fire by now
    assert.equal(await page.evaluate('typeof window.pwned'), 'undefined');
    assert.equal(await page.locator('main img, main script, main iframe, main pre svg').count(), 0);
    assertQuiet(watch);
  }

  it('shows markup printed by a program literally, while it streams and after', async () => {
    await page.goto(`${p.url}/submit`);
    await page.getByLabel('Language').selectOption('javascript');
    await page.locator('#code').fill(PROGRAM);
    await page.locator('#code').press('Control+Enter');
    await page.waitForURL(/\/evaluations\//);
    await page.locator('.badges .status-completed').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), EXPECTED);
    assert.equal(await page.locator('pre[data-stream="stderr"]').textContent(), `${ATTACKS[0]}\n`);
    await assertInert();
    await screenshot(page, 'evaluation-xss');

    // Loaded afresh: the output now comes from the stored evaluation rather than the stream.
    await page.reload();
    await page.locator('.badges .status-completed').waitFor();
    assert.equal(await page.locator('pre[data-stream="stdout"]').textContent(), EXPECTED);
    await assertInert();
  });

  it('shows markup in the URL literally', async () => {
    await page.goto(`${p.url}/history?language=${encodeURIComponent(ATTACKS[0]!)}`);
    await page.getByText('No evaluation matches.').waitFor();
    await assertInert();
    await page.goto(`${p.url}/evaluations/${encodeURIComponent(ATTACKS[0]!)}`);
    await page.getByRole('alert').waitFor();
    await assertInert();
  });

  it('would still block an inline handler that reached the page: the CSP forbids inline script', async () => {
    // Defence in depth: put markup into the DOM the way a rendering bug would.
    await page.evaluate(`document.querySelector('main').insertAdjacentHTML('beforeend', ${JSON.stringify(ATTACKS[0])})`);
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate('typeof window.pwned'), 'undefined');
    assert.deepEqual(watch.dialogs, []);
    assert.ok(watch.cspViolations.some((v) => /inline event handler|script-src/i.test(v)), `the CSP reported the blocked handler: ${watch.cspViolations}`);
  });
});
