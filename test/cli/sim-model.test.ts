/**
 * `nibble sim MODEL`: a model compiled and simulated in one process (issue 17's
 * one command) gives what `nibble compile` then `nibble sim PROGRAM.nbl` gives;
 * options that only apply to a model are refused for a program, as in `nibble report`.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, expectUserError, nibble } from './nibble.js';

let tmp: string;
/** `nibble sim m.nbl --engine timing --json` */
let timing: Record<string, unknown>;
const file = (name: string) => join(tmp, name);

/** A --json document without the keys naming what was given (the program file, or the model it was compiled from). */
function figures(doc: Record<string, unknown>): Record<string, unknown> {
  const { program: _p, model: _m, network: _n, batch: _b, configHash: _h, ...rest } = doc;
  return rest;
}

async function json(args: string[]): Promise<Record<string, unknown>> {
  const r = await nibble([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-sim-model-'));
  for (const f of ['m.nbm', 'm.json']) {
    const e = await nibble(['zoo', 'export', 'mnist', '--input-size', '16', '-o', file(f)]);
    expect(e.code, e.stderr).toBe(0);
  }
  const c = await nibble(['compile', file('m.nbm'), '--batch', '2', '-o', file('m.nbl')]);
  expect(c.code, c.stderr).toBe(0);
  timing = await json(['sim', file('m.nbl'), '--engine', 'timing']);
});

describe('nibble sim MODEL', () => {
  test('a .nbm or .json model gives the compiled program file run: cycles, counters, outputs, report', async () => {
    const two = await json(['sim', file('m.nbl')]);
    expect(two.program).toBe(file('m.nbl'));
    for (const model of ['m.nbm', 'm.json']) {
      const one = await json(['sim', file(model), '--batch', '2']);
      expect(one).toMatchObject({ model: file(model), network: 'mnist-16', batch: 2 });
      expect(one.program).toBeUndefined();
      expect(figures(one)).toEqual(figures(two)); // fast engine: the same seeded inputs give the same outputs
    }
    const timing = await json(['sim', file('m.nbl'), '--engine', 'timing']);
    expect(figures(await json(['sim', file('m.json'), '--engine', 'timing', '--batch', '2']))).toEqual(figures(timing));
    // the human-readable report: the same lines, after one naming the compile
    const text = await nibble(['sim', file('m.nbl'), '--engine', 'timing']);
    const textOne = await nibble(['sim', file('m.nbm'), '--engine', 'timing', '--batch', '2']);
    expect(textOne.code, textOne.stderr).toBe(0);
    expect(textOne.stdout).toBe(`compiled mnist-16 (batch 2) from ${file('m.nbm')}\n${text.stdout}`);
  });

  test('a program by its magic under another extension; --format reads a model under any name', async () => {
    copyFileSync(file('m.nbl'), file('prog.bin'));
    copyFileSync(file('m.json'), file('model.bin'));
    expect(figures(await json(['sim', file('prog.bin'), '--engine', 'timing']))).toEqual(figures(timing));
    const one = await json(['sim', file('model.bin'), '--format', 'json', '--engine', 'timing', '--batch', '2']);
    expect(figures(one)).toEqual(figures(timing));
  });

  test('bad input: model-only options on a program, a bad model, a bad batch, another machine', async () => {
    expectUserError(
      await nibble(['sim', file('m.nbl'), '--batch', '4']),
      /--batch applies to a model, and .*m\.nbl is a compiled program \(its batch is 2\)/,
      'NB-U000',
    );
    expectUserError(await nibble(['sim', file('m.nbl'), '--format', 'json']), /--format applies to a model/);
    const bad = file('bad.json');
    writeFileSync(bad, '{"name": "x", "layers": [}\n');
    expectUserError(await nibble(['sim', bad]), /bad\.json:1:\d+: /);
    expectUserError(await nibble(['sim', file('missing.nbm')]), /missing\.nbm: model file not found$/, 'NB-F001');
    expectUserError(await nibble(['sim', file('m.nbm'), '--batch', '0']), /--batch must be a positive integer/);
    const small = file('small.json');
    writeFileSync(small, JSON.stringify({ array: { rows: 8, cols: 8 } }));
    expectUserError(
      await nibble(['sim', file('m.nbl'), '--config', small]),
      /--config .*small\.json is config [0-9a-f]+, but .*m\.nbl was compiled for config [0-9a-f]+/,
    );
    // a --config is the machine a model is compiled for
    const [byDefault, bySmall] = await Promise.all([
      json(['sim', file('m.nbm'), '--engine', 'timing']),
      json(['sim', file('m.nbm'), '--config', small, '--engine', 'timing']),
    ]);
    expect(byDefault.batch).toBe(1); // as for nibble compile
    expect(bySmall.configHash).not.toBe(byDefault.configHash);
    expect(bySmall.cycles).not.toBe(byDefault.cycles);
  });
});
