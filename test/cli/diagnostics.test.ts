/**
 * Diagnostic codes at the command line: errors print error[CODE], warnings
 * warning[CODE] and can be suppressed by code, `nibble explain` explains one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DIAGNOSTICS } from '../../arch/index.js';
import { ensureBuilt, expectUserError, nibble } from './nibble.js';

let tmp: string;
let leftover: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-diag-'));
  leftover = join(tmp, 'leftover.s');
  writeFileSync(leftover, 'NOP unit=load push_next\nHALT\n');
});

describe('diagnostic codes on the command line', () => {
  test('an error line carries its code', async () => {
    expectUserError(
      await nibble(['sim', join(tmp, 'missing.nbl')]),
      /^nibble: error\[NB-F001\]: .*missing\.nbl: program file not found$/,
      'NB-F001',
    );
    const junk = join(tmp, 'junk.nbl');
    writeFileSync(junk, 'these are not the bytes of a program file\n');
    expectUserError(await nibble(['sim', junk]), /not a nibble program file/, 'NB-I010');
    expectUserError(await nibble(['sim', '--engin', 'fast', leftover]), /unknown option --engin/, 'NB-U000');
  });

  test('a warning carries its code and is suppressed by it (--suppress, NIBBLE_SUPPRESS)', async () => {
    const out = join(tmp, 'leftover.nbl');
    const shown = await nibble(['asm', leftover, '-o', out]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toBe('nibble: warning[NB-I103]: tokens pushed but never popped: 1 on load->compute\n');
    for (const r of [
      await nibble(['asm', leftover, '-o', out, '--suppress', 'NB-I103']),
      await nibble(['asm', '--suppress', 'i101,i103', leftover, '-o', out]),
      await nibble(['asm', leftover, '-o', out], { env: { NIBBLE_SUPPRESS: 'NB-I103' } }),
    ]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expectUserError(
      await nibble(['asm', leftover, '-o', out, '--suppress', 'NB-S004']),
      /NB-S004 is an error \(accumulator overflow\); only warnings and notes can be suppressed/,
      'NB-U002',
    );
    expectUserError(
      await nibble(['asm', leftover, '-o', out, '--suppress', 'NB-I999']),
      /unknown diagnostic code/,
      'NB-U001',
    );
  });

  test('nibble explain CODE prints the explanation; --list every code', async () => {
    const r = await nibble(['explain', 's004']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('NB-S004 (error): accumulator overflow');
    expect(r.stdout).toContain(DIAGNOSTICS['NB-S004'].explanation);
    expect(r.stdout).toContain('cannot be suppressed');
    const list = JSON.parse((await nibble(['explain', '--list', '--json'])).stdout) as {
      diagnostics: { code: string }[];
    };
    expect(list.diagnostics.map((d) => d.code)).toEqual(Object.keys(DIAGNOSTICS).sort());
    expectUserError(await nibble(['explain', 'NB-Q123']), /unknown diagnostic code 'NB-Q123'/, 'NB-U001');
  });
});
