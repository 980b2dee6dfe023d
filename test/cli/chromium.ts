/**
 * Debian's headless Chromium driven by playwright-core, for tests that look at
 * a rendered page the way a person would: sizes, overlaps, screenshots.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium as driver, type Browser, type Page } from 'playwright-core';

export function findChromium(): string | undefined {
  for (const c of [
    process.env['CHROMIUM'],
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ]) {
    if (c && existsSync(c)) return c;
  }
  return undefined;
}

/** Open `htmlFile` in a fresh headless Chromium, run `fn` on the page, close everything. */
export async function withPage<T>(
  chromium: string,
  htmlFile: string,
  fn: (page: Page) => Promise<T>,
  viewport = { width: 1100, height: 900 },
): Promise<T> {
  const browser: Browser = await driver.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport });
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    return await fn(page);
  } finally {
    await browser.close();
  }
}
