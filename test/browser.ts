/**
 * Debian's chromium, driven by puppeteer-core (no browser download), headless, with a fresh
 * profile and nothing that reaches for the network: what the browser tests and the HTML bench use.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.VAAT_CHROMIUM ?? '/usr/bin/chromium';

export function haveChromium(): boolean { return existsSync(CHROMIUM); }

export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'vaat-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Open a page, recording console errors, page errors, failed loads and dialogs in `errors`, and
 * in `requests` (aborted) every request `allowed` refuses: a page must fetch nothing from elsewhere.
 */
export async function openPage(browser: Browser, url: string, allowed: (url: string) => boolean): Promise<{ page: Page; errors: string[]; requests: string[]; status: number | null }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); void d.dismiss(); });
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (allowed(r.url()) || r.url().startsWith('data:')) void r.continue();
    else { requests.push(r.url()); void r.abort(); }
  });
  await page.setViewport({ width: 1280, height: 900 });
  const res = await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests, status: res?.status() ?? null };
}
