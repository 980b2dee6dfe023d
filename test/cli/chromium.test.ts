/** Without Chromium the browser checks skip and say so, except under CI, where they fail naming the install. */
import { describe, expect, it } from 'vitest';
import { chromiumVerdict } from './chromium.js';

describe('browser suites without chromium', () => {
  it('run when chromium is found', () => {
    expect(chromiumVerdict('f.test.ts', '/usr/bin/chromium', true)).toEqual({ action: 'run' });
  });
  it('skip with a line when CI is not set', () => {
    expect(chromiumVerdict('f.test.ts', undefined, false)).toEqual({
      action: 'skip',
      message:
        'SKIPPED the Chromium checks of f.test.ts: no chromium found (apt-get install -y chromium, or set CHROMIUM to its path)',
    });
  });
  it('fail with a line naming the install when CI is set', () => {
    expect(chromiumVerdict('f.test.ts', undefined, true)).toEqual({
      action: 'fail',
      message:
        'f.test.ts: CI is set, so the browser checks must run, but no chromium found (apt-get install -y chromium, or set CHROMIUM to its path)',
    });
  });
});
