/**
 * Debian's headless Chromium driven by playwright-core, for tests that look at
 * a rendered page the way a person would: sizes, overlaps, screenshots.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium as driver, type Browser, type Page } from 'playwright-core';
import { it } from 'vitest';
import { ciIsSet } from '../rtl/tools-required.js';

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

/** What a test file does without Chromium: skip with a line, or under CI fail with a line (as the RTL suites do). */
export function chromiumVerdict(
  file: string,
  found: string | undefined,
  ci: boolean,
): { action: 'run' } | { action: 'skip' | 'fail'; message: string } {
  if (found) return { action: 'run' };
  const what = 'no chromium found (apt-get install -y chromium, or set CHROMIUM to its path)';
  return ci
    ? { action: 'fail', message: `${file}: CI is set, so the browser checks must run, but ${what}` }
    : { action: 'skip', message: `SKIPPED the Chromium checks of ${file}: ${what}` };
}

/**
 * Chromium's path for a test file's browser checks. Where it is missing the
 * file's browser tests skip and say so, except under CI: then the file gets a
 * failing test that names the install command, so CI cannot pass by skipping.
 * Call it at the top level of a test file (it may register a test).
 */
export function requireChromium(file: string): string | undefined {
  const found = findChromium();
  const v = chromiumVerdict(file, found, ciIsSet());
  if (v.action === 'skip') console.warn(v.message);
  if (v.action === 'fail')
    it('required tool: chromium', () => {
      throw new Error(v.message);
    });
  return found;
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
