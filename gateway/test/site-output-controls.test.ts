import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Platform } from './platform.js';
import { assertQuiet, ensureSiteBuilt, launchBrowser, openPage, screenshot, signIn, type PageWatch } from './site-browser.js';

// Output is data, whatever its bytes (issue 12): a NUL is invisible, ESC would start colour or
// cursor sequences in a terminal, CR would hide what came before it, and a bidi override reorders
// the text around it. The site must show each as a visible symbol, marked apart from the text.
const PROGRAM = String.raw`console.log("a\0b\x1b[31mred\x1b[0m\rX\u202eevil\x7f"); console.error("e\0\0")`;
const SHOWN_STDOUT = 'a\u2400b\u241b[31mred\u241b[0m\u240dX\u27e8U+202E\u27e9evil\u2421\n';
const SHOWN_STDERR = 'e\u2400\u2400\n';

describe('status site: control characters in output are shown visibly, never interpreted', () => {
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

  /** The output panels show the symbols, each run of controls in its own styled span. */
  async function assertShownVisibly(): Promise<void> {
    const stdout = page.locator('pre[data-stream="stdout"]');
    assert.equal(await stdout.textContent(), SHOWN_STDOUT);
    assert.equal(await page.locator('pre[data-stream="stderr"]').textContent(), SHOWN_STDERR);
    const marks = await stdout.locator('span.ctl').allTextContents();
    assert.deepEqual(marks, ['\u2400', '\u241b', '\u241b', '\u240d', '\u27e8U+202E\u27e9', '\u2421']);
    assert.deepEqual(await page.locator('pre[data-stream="stderr"] span.ctl').allTextContents(), ['\u2400\u2400']);
    // Styled apart from the text around it, and named in its tooltip.
    const [mark, text] = (await page.evaluate(`(() => {
      const pre = document.querySelector('pre[data-stream="stdout"]');
      return [getComputedStyle(pre.querySelector('span.ctl')).backgroundColor, getComputedStyle(pre).backgroundColor];
    })()`)) as [string, string];
    assert.notEqual(mark, text);
    assert.equal(await stdout.locator('span.ctl').first().getAttribute('title'), 'U+0000');
    // Nothing in the panel is a control character any more: nothing can act.
    const raw = (await stdout.textContent()) ?? '';
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/.test(raw));
    assertQuiet(watch);
  }

  it('shows NUL, ESC, CR, DEL and a bidi override as symbols, while it streams and after', async () => {
    await page.goto(`${p.url}/submit`);
    await page.getByLabel('Language').selectOption('javascript');
    await page.locator('#code').fill(PROGRAM);
    await page.locator('#code').press('Control+Enter');
    await page.waitForURL(/\/evaluations\//);
    await page.locator('.badges .status-completed').waitFor();
    await assertShownVisibly();
    await screenshot(page, 'evaluation-control-characters');

    // Loaded afresh: the output now comes from the stored evaluation rather than the stream.
    await page.reload();
    await page.locator('.badges .status-completed').waitFor();
    await assertShownVisibly();
  });
});
