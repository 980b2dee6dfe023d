/** Render an HTML file in headless Chromium and return the DOM after its scripts ran. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

export function dumpDom(chromium: string, htmlFile: string): { dom: string; stderr: string; status: number | null } {
  const profile = mkdtempSync(join(tmpdir(), 'nibble-chromium-'));
  try {
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--enable-logging=stderr',
        '--v=0',
        '--virtual-time-budget=2000',
        '--dump-dom',
        pathToFileURL(htmlFile).href,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return { dom: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
