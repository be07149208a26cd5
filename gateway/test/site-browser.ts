/** Chromium for the status site's end-to-end tests: Debian's package driven by playwright-core. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const GATEWAY = resolve(import.meta.dirname, '..');
const SITE_INDEX = resolve(GATEWAY, 'dist/site/index.html');
export const ARTIFACTS = resolve(GATEWAY, '../test-artifacts/site');
/** Never Playwright's own download (`npx playwright install`): only the registries are reachable. */
export const CHROMIUM = '/usr/bin/chromium';

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** `./crucible test` builds the site; a test run directly (node --test) builds it when missing. */
export function ensureSiteBuilt(): void {
  if (existsSync(SITE_INDEX)) return;
  const res = spawnSync('npm', ['run', '-s', 'build:site'], { cwd: GATEWAY, stdio: 'inherit' });
  assert.equal(res.status, 0, 'building the status site failed');
}

/** A headless Chromium; launch() gives each browser a fresh temporary profile (user-data-dir). */
export async function launchBrowser(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (./crucible test does it as root)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** What a page did that a test must see: script errors, CSP violations, dialogs. */
export interface PageWatch {
  errors: string[];
  cspViolations: string[];
  dialogs: string[];
}

/** A new page in its own context (own sessionStorage) that records anything suspicious. */
export async function openPage(browser: Browser, viewport = DESKTOP): Promise<{ page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const watch: PageWatch = { errors: [], cspViolations: [], dialogs: [] };
  page.on('pageerror', (err) => watch.errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) watch.cspViolations.push(m.text());
  });
  page.on('dialog', (d) => {
    watch.dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, watch };
}

/** Signs in on the site's own form with `key`, as a user would, and waits for the home page. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

export function assertQuiet(watch: PageWatch): void {
  assert.deepEqual(watch.errors, [], 'page errors');
  assert.deepEqual(watch.cspViolations, [], 'CSP violations by the site itself');
  assert.deepEqual(watch.dialogs, [], 'dialogs');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });
}
