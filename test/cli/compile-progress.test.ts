/**
 * `nibble compile` on a terminal shows the compiler's current phase on its step
 * line (issue 16 item 5); through a pipe only the plain lines appear. The
 * terminal is a real pseudo-terminal (util-linux `script`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { AUTHORS_MODEL, BIN, ensureBuilt, nibble } from './nibble.js';

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-compile-progress-'));
});

const HAVE_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe('compile progress', () => {
  test.skipIf(!HAVE_SCRIPT && !process.env['CI'])('on a terminal the step line shows the phase, then done', () => {
    const out = join(tmp, 'tty.nbl');
    const cmd = [process.execPath, BIN, 'compile', AUTHORS_MODEL, '--format', 'integernet', '-o', out]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('\r\x1b[K'); // the step line redrawn in place
    expect(r.stdout).toMatch(/compiling .*\.\.\. lowering the network/);
    expect(r.stdout).toMatch(/compiling .*: done \(/);
  });

  test('through a pipe: the plain step lines only, no redraws', async () => {
    const r = await nibble(['compile', AUTHORS_MODEL, '--format', 'integernet', '-o', join(tmp, 'pipe.nbl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/\r|lowering the network/);
  });
});
