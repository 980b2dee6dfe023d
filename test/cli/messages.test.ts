/**
 * Issue 16's "silent acceptance" and "messages" cases, each as a test of the
 * one line a user sees: duplicate keys, options a program would ignore,
 * another config than the program's, did-you-mean everywhere, numbers as
 * typed, files named before their format, binary files, missing tools.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, test } from 'vitest';
import { AUTHORS_MODEL, BIN, ensureBuilt, expectUserError, nibble } from './nibble.js';

let tmp: string;
let prog: string;
let small: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-messages-'));
  prog = join(tmp, 'm.nbl');
  expect((await nibble(['compile', AUTHORS_MODEL, '-o', prog])).code).toBe(0);
  small = join(tmp, 'small.json');
  writeFileSync(small, JSON.stringify({ array: { rows: 8, cols: 8 } }));
});

describe('silent acceptance becomes an error', () => {
  test('duplicate keys in a config and in a model', async () => {
    const cfg = join(tmp, 'dup-config.json');
    writeFileSync(cfg, '{\n  "clockMHz": 100,\n  "clockMHz": 800\n}\n');
    expectUserError(
      await nibble(['config', cfg]),
      /dup-config\.json:3:3: not valid JSON: duplicate key "clockMHz" in the top-level object/,
    );
    const model = join(tmp, 'dup-model.json');
    expect((await nibble(['zoo', 'export', 'mnist', '--input-size', '8', '-o', model])).code).toBe(0);
    writeFileSync(model, readFileSync(model, 'utf8').replace('"weightBits": 4,', '"weightBits": 4, "weightBits": 8,'));
    expectUserError(
      await nibble(['compile', model, '-o', join(tmp, 'x.nbl')]),
      /dup-model\.json:5:\d+: not valid JSON: duplicate key "weightBits"/,
    );
  });

  test('verify PROGRAM --config X for another machine is refused, not a check of the wrong config', async () =>
    expectUserError(
      await nibble(['verify', prog, '--rtl', '--config', small]),
      /--config .*small\.json is config [0-9a-f]{16}, but .*m\.nbl was compiled for config f9765646d11e98f6: recompile/,
    ));

  test('report PROGRAM --config X / --batch N, verify PROGRAM --images N: refused, not ignored', async () => {
    const html = join(tmp, 'r.html');
    expectUserError(
      await nibble(['report', prog, '--config', small, '-o', html]),
      /--config .*small\.json is config [0-9a-f]{16}, but .*m\.nbl was compiled for config f9765646d11e98f6/,
    );
    expectUserError(
      await nibble(['report', prog, '--batch', '4', '-o', html]),
      /--batch applies to a model, and .*m\.nbl is a compiled program \(its batch is 1\)/,
    );
    expectUserError(
      await nibble(['verify', prog, '--rtl', '--images', '5']),
      /--images applies to a model, and .*m\.nbl is a compiled program/,
    );
    // the same config as the program's is fine
    const same = join(tmp, 'default.json');
    writeFileSync(same, '{}');
    expect((await nibble(['report', prog, '--config', same, '-o', html])).code).toBe(0);
  });

  test('unknown keys in --energy tables', async () => {
    const table = JSON.parse(readFileSync(join(import.meta.dirname, '../../sim/energy-table.json'), 'utf8'));
    table.actions['mac.int4'].pj = 0.2;
    const f = join(tmp, 'energy.json');
    writeFileSync(f, JSON.stringify(table));
    expectUserError(
      await nibble(['sim', prog, '--energy', f]),
      /energy\.json: actions\.mac\.int4\.pj: unknown field 'pj' \(did you mean pJ\?\) .*: it would be ignored/,
    );
    delete table.actions['mac.int4'].pj;
    table.dram.kinds.lpddr5 = { pJ: 5 }; // a new DRAM kind is the user's to name
    table.dram.default = 'lpddr5';
    writeFileSync(f, JSON.stringify(table));
    const r = await nibble(['sim', prog, '--energy', f]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/DRAM lpddr5/);
  });
});

describe('messages', () => {
  test('a missing file or a directory is named before format detection', async () => {
    expectUserError(await nibble(['compile', join(tmp, 'nope.onnx'), '-o', prog]), /nope\.onnx: model file not found$/);
    mkdirSync(join(tmp, 'adir.json'));
    expectUserError(
      await nibble(['run', '--model', join(tmp, 'adir.json')]),
      /adir\.json: model file expected, but this is a directory$/,
    );
    expectUserError(await nibble(['sim', tmp]), /program file expected, but this is a directory$/);
    expectUserError(await nibble(['config', tmp]), /config file expected, but this is a directory$/);
  });

  test('did-you-mean for commands, options and config fields', async () => {
    expectUserError(await nibble(['compil']), /unknown command 'compil': did you mean compile\?/);
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '-o', prog, '--batc', '2']),
      /unknown option --batc \(did you mean --batch\?\) \(see nibble compile --help\)/,
    );
    expectUserError(
      await nibble(['sim', prog, '--engin', 'fast']),
      /unknown option --engin \(did you mean --engine\?\)/,
    );
    expectUserError(
      await nibble(['sim', prog, '--engine', 'cycl']),
      /--engine "cycl" is not one of fast, timing, cycle \(did you mean cycle\?\)/,
    );
    expectUserError(
      await nibble(['zoo', 'export', 'vgg', '-o', join(tmp, 'v.json')]),
      /unknown zoo network 'vgg' \(did you mean vgg16\?\)/,
    );
    const cfg = join(tmp, 'typo.json');
    writeFileSync(cfg, '{"scratchpad": {"inputEntrys": 4096}}');
    expectUserError(
      await nibble(['config', cfg]),
      /typo\.json: scratchpad\.inputEntrys: unknown field 'inputEntrys' \(did you mean inputEntries\?\)/,
    );
  });

  test('numbers are echoed as typed', async () => {
    expectUserError(await nibble(['demo', '--images', 'abc']), /--images must be a positive integer, got "abc"$/);
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '-o', prog, '--batch', '1.5']),
      /--batch must be a positive integer, got "1\.5"$/,
    );
    expectUserError(
      await nibble(['zoo', 'export', 'mnist', '-o', join(tmp, 'z.json'), '--seed']),
      /--seed needs a value/,
    );
  });

  test('config range errors name the file; tiny clocks are rejected, not printed as Infinity us', async () => {
    const cfg = join(tmp, 'range.json');
    writeFileSync(cfg, '{"clockMHz": 5e-324}');
    expectUserError(
      await nibble(['config', cfg]),
      /range\.json: clockMHz: must be a number of MHz in \[0\.001, 10000\], got 5e-324$/,
    );
    writeFileSync(cfg, '{"queues": {"load": 0}}');
    expectUserError(
      await nibble(['compile', AUTHORS_MODEL, '--config', cfg, '-o', prog]),
      /range\.json: queues\.load: must be in \[1, 256\], got 0$/,
    );
  });

  test('JSON syntax errors give line:column', async () => {
    const cfg = join(tmp, 'syntax.json');
    writeFileSync(cfg, '{\n  "clockMHz": 100,\n  "array": { rows: 8 }\n}\n');
    expectUserError(
      await nibble(['config', cfg]),
      /syntax\.json:3:14: not valid JSON: expected a key in double quotes, got 'r'$/,
    );
    const input = join(tmp, 'input.json');
    writeFileSync(input, '[1, 2,, 3]');
    expectUserError(
      await nibble(['sim', prog, '--input', input]),
      /input\.json:1:7: not valid JSON: expected a value, got ','$/,
    );
  });

  test('binary files are described, never echoed', async () => {
    for (const args of [
      ['config', prog],
      ['asm', prog, '-o', join(tmp, 'a.nbl')],
      ['compile', prog, '--format', 'json', '-o', join(tmp, 'a.nbl')],
    ]) {
      const r = await nibble(args);
      expectUserError(
        r,
        /expected as text, but this is a nibble program file \(\.nbl\): give it to sim, disasm, verify or report$/,
      );
      expect([...r.stderr].some((c) => c.charCodeAt(0) < 0x20 && c !== '\n')).toBe(false);
    }
  });

  test('a layer without a kind says the kind is missing', async () => {
    const model = join(tmp, 'nokind.json');
    expect((await nibble(['zoo', 'export', 'mnist', '--input-size', '8', '-o', model])).code).toBe(0);
    writeFileSync(model, readFileSync(model, 'utf8').replace('"kind": "conv2d",', ''));
    const r = await nibble(['compile', model, '-o', join(tmp, 'x.nbl')]);
    expectUserError(r, /field kind: missing: every layer names its kind \(conv2d, /);
    expect(r.stderr).not.toMatch(/undefined/);
  });

  test('--verbose prints each step with its time; --quiet prints no notes', async () => {
    const v = await nibble(['compile', AUTHORS_MODEL, '-o', join(tmp, 'v.nbl'), '--verbose']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(
      /^compiling integernet-mnist-4bit \(batch 1\)\.\.\.\ncompiling integernet-mnist-4bit \(batch 1\): done \(\d+\.\d s\)\n$/,
    );
    const normal = await nibble(['sim', prog, '--vcd', join(tmp, 'q.vcd')]);
    expect(normal.stderr).toMatch(/^nibble: warning\[NB-S101\]: --vcd needs the cycle engine; using --engine cycle$/m);
    const q = await nibble(['sim', prog, '--vcd', join(tmp, 'q.vcd'), '-q']);
    expect(q.code).toBe(0);
    expect(q.stderr).toBe('');
    expect(q.stdout).toMatch(/VCD written to/);
  });

  test("help wraps to the terminal's width (100 columns when stdout is not a terminal)", () => {
    const preload = join(tmp, 'columns.mjs');
    writeFileSync(preload, 'Object.defineProperty(process.stdout, "columns", { value: 60 });\n');
    const widest = (extra: string[]) => {
      const r = spawnSync(process.execPath, [...extra, BIN, 'sim', '--help'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      return Math.max(...r.stdout.split('\n').map((l) => l.length));
    };
    expect(widest(['--import', pathToFileURL(preload).href])).toBe(60);
    expect(widest([])).toBe(100);
  });

  test('a missing tool is one line with the install command', async () => {
    const env = { PATH: '/nonexistent' };
    expectUserError(
      await nibble(['rtl', '--lint'], { env }),
      /nibble rtl --lint needs verilator, which is not installed \(not on PATH\): install with `sudo apt-get install verilator`/,
    );
    expectUserError(
      await nibble(['rtl', '--pnr', 'ice40-hx8k'], { env }),
      /needs yosys and nextpnr-ice40, which are not installed .*apt-get install yosys nextpnr-ice40/,
    );
    expectUserError(await nibble(['verify', prog, '--rtl'], { env }), /needs verilator, make and g\+\+/);
  });
});
