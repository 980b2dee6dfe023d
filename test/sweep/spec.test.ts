/** Sweep specs: the schema, axis forms, and one located, reasoned error for each kind of bad input. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { presetConfig } from '../../arch/index.js';
import { MAX_POINTS, parseSpec, SweepSpecError } from '../../sweep/index.js';
import { thrownMessage } from '../thrown.js';

const dir = mkdtempSync(join(tmpdir(), 'nibble-spec-'));
const file = join(dir, 'space.yaml');

function errorOf(text: string, name = file): string {
  return thrownMessage(() => parseSpec(text, name), SweepSpecError);
}

describe('sweep spec', () => {
  test('a full YAML spec: models, presets, every axis form, batches, constraints, objectives, fpga', () => {
    writeFileSync(join(dir, 'net.json'), '{}');
    const s = parseSpec(
      [
        'name: full',
        'models:',
        '  - cifar10',
        '  - {zoo: mnist, inputSize: 16}',
        '  - net.json',
        '  - {file: other.txt}',
        'presets: [default, edge]',
        'axes:',
        '  array.size: [8, 16]',
        '  dram.busBytes: {pow2: [4, 33]}',
        '  dram.latency: {range: [8, 32], step: 12}',
        '  clockMHz: 400',
        'batch: {values: [1, 4]}',
        'engine: fast',
        'constraints: ["area <= 2", "latency<1e4", {fits: xc7a100t}]',
        'objectives: [latency, energy, luts]',
        'fpga: {target: xilinx}',
      ].join('\n'),
      file,
    );
    expect(s.name).toBe('full');
    expect(s.models).toEqual([
      { kind: 'zoo', zoo: 'cifar10' },
      { kind: 'zoo', zoo: 'mnist', inputSize: 16 },
      { kind: 'file', path: join(dir, 'net.json'), format: 'json' },
      { kind: 'file', path: join(dir, 'other.txt'), format: 'integernet' },
    ]);
    expect(s.bases.map((b) => b.label)).toEqual(['preset:default', 'preset:edge']);
    expect(s.bases[1]!.config).toEqual(presetConfig('edge'));
    expect(s.axes).toEqual([
      { field: 'array.size', values: [8, 16] },
      { field: 'dram.busBytes', values: [4, 8, 16, 32] },
      { field: 'dram.latency', values: [8, 20, 32] },
      { field: 'clockMHz', values: [400] },
    ]);
    expect(s.batches).toEqual([1, 4]);
    expect(s.engine).toBe('fast');
    expect(s.constraints.map((c) => c.text)).toEqual(['area <= 2', 'latency < 10000', 'fits xc7a100t']);
    expect(s.objectives).toEqual(['latency', 'energy', 'luts']);
    expect(s.fpga).toEqual({ target: 'xilinx', synth: false });
  });

  test('JSON specs, defaults, and a base from a preset, a config file or an inline config', () => {
    writeFileSync(join(dir, 'arch.json'), JSON.stringify({ array: { rows: 8, cols: 8 } }));
    const s = parseSpec(
      '{"models": "mnist", "base": "arch.json", "axes": {"queues.load": [1, 2]}}',
      join(dir, 'x.json'),
    );
    expect(s.name).toBe('x');
    expect(s.bases[0]!.config.array.rows).toBe(8);
    expect(s.engine).toBe('timing');
    expect(s.batches).toEqual([1]);
    expect(s.objectives).toEqual(['latency', 'energy', 'area']);
    expect(s.fpga).toBeUndefined();
    expect(parseSpec('models: [mnist]\nbase: preset:large', file).bases[0]!.config.array.rows).toBe(32);
    expect(parseSpec('models: [mnist]\nbase: {dram: {latency: 40}}', file).bases[0]!.config.dram.latency).toBe(40);
    // a fits constraint alone implies the fpga target
    expect(parseSpec('models: [mnist]\nconstraints: [{fits: ice40-hx8k}]', file).fpga).toEqual({
      target: 'ice40',
      synth: false,
    });
  });
});

describe('sweep spec: bad input', () => {
  test('an axis naming an unknown field: located, with did-you-mean and the field list', () => {
    const m = errorOf('models: [mnist]\naxes:\n  array.size: [8]\n  scratchpad.inputEntrys: [1024]\n');
    expect(m).toMatch(
      new RegExp(
        `^${file}:4:3: axes\\.scratchpad\\.inputEntrys: unknown ArchConfig field 'scratchpad\\.inputEntrys' \\(did you mean scratchpad\\.inputEntries\\?\\); fields: array\\.size, array\\.rows,`,
      ),
    );
    expect(errorOf('models: [mnist]\naxes: {arary.rows: [8]}')).toMatch(
      /axes\.arary\.rows: unknown ArchConfig field 'arary\.rows' \(did you mean array\.rows\?\)/,
    );
  });

  test('an impossible axis value names the value, its place and the reason', () => {
    expect(errorOf('models: [mnist]\naxes:\n  array.size: [8, 12, 16]\n')).toBe(
      `${file}:3:19: axes.array.size.1: 12 is impossible: must be a power of two (the hardware indexes it with address bits), got 12`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  dram.latency: {range: [0, 4]}\n')).toBe(
      `${file}:3:17: axes.dram.latency.0: 0 is impossible: must be in [1, 1000], got 0`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  techNodeNm: [45, 7]\n')).toMatch(
      /axes\.techNodeNm\.1: 7 is impossible: must be 45, 28 or 22, got 7$/,
    );
    // rows and cols are axes of their own (rectangular arrays); each must still be a power of two
    expect(errorOf('models: [mnist]\naxes:\n  array.rows: [8, 18]\n')).toBe(
      `${file}:3:19: axes.array.rows.1: 18 is impossible: must be a power of two (the hardware indexes it with address bits), got 18`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  clockMHz: ["fast"]\n')).toBe(
      `${file}:3:14: axes.clockMHz.0: must be a number, got "fast"`,
    );
  });

  test('a switch axis (gemmBeside): true and false, a list or {values}; anything else is one located line', () => {
    const axes = (v: string) => parseSpec(`models: [mnist]\naxes:\n  gemmBeside: ${v}\n`, file).axes;
    expect(axes('[false, true]')).toEqual([{ field: 'gemmBeside', values: [false, true] }]);
    expect(axes('false')).toEqual([{ field: 'gemmBeside', values: [false] }]);
    expect(axes('{values: [true]}')).toEqual([{ field: 'gemmBeside', values: [true] }]);
    expect(errorOf('models: [mnist]\naxes:\n  gemmBeside: [false, 1]\n')).toBe(
      `${file}:3:23: axes.gemmBeside.1: must be true or false (gemmBeside is a switch), got 1`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  gemmBeside: {pow2: [0, 1]}\n')).toBe(
      `${file}:3:16: axes.gemmBeside.pow2: unknown key 'pow2'; known: values`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  gemmBeside: [true, true]\n')).toBe(
      `${file}:3:15: axes.gemmBeside: lists true twice`,
    );
    expect(errorOf('models: [mnist]\naxes:\n  gemmBeside: []\n')).toMatch(/axes\.gemmBeside: has no values/);
    // and a number field refuses a switch value
    expect(errorOf('models: [mnist]\naxes:\n  clockMHz: [true]\n')).toBe(
      `${file}:3:14: axes.clockMHz.0: must be a number, got true`,
    );
  });

  test('an empty space: empty axis, empty model list, an empty range, an empty preset list', () => {
    expect(errorOf('models: [mnist]\naxes:\n  array.size: []\n')).toBe(
      `${file}:3:15: axes.array.size: has no values: the design space would be empty`,
    );
    expect(errorOf('models: []\n')).toMatch(/models: is empty: the design space would be empty$/);
    expect(errorOf('models: [mnist]\naxes:\n  dram.latency: {range: [9, 8]}\n')).toMatch(
      /axes\.dram\.latency\.range: is empty: lo 9 > hi 8$/,
    );
    expect(errorOf('models: [mnist]\naxes:\n  dram.busBytes: {pow2: [5, 7]}\n')).toMatch(
      /axes\.dram\.busBytes: has no values/,
    );
    expect(errorOf('models: [mnist]\npresets: []\n')).toMatch(/presets: is empty/);
    expect(
      errorOf(
        'models: [mnist]\naxes:\n  dram.latency: {range: [1, 1000]}\n  queues.load: {range: [1, 256]}\n  queues.store: {range: [1, 256]}\n',
      ),
    ).toMatch(new RegExp(`axes: spans 65,536,000 points, more than ${MAX_POINTS.toLocaleString('en-US')}`));
  });

  test('malformed files and values: one located line each', () => {
    expect(errorOf('models: [mnist\n')).toMatch(new RegExp(`^${file}:\\d+:\\d+: not valid YAML: `));
    expect(errorOf('{"models": ', join(dir, 'bad.json'))).toMatch(/bad\.json:1:\d+: not valid JSON: /);
    expect(errorOf('- 1\n- 2\n')).toMatch(/a sweep spec must be a mapping/);
    expect(errorOf('axes: {}\n')).toMatch(/no `models`: name at least one model/);
    expect(errorOf('models: [mnist]\naxis: {}\n')).toBe(
      `${file}:2:1: axis: unknown key 'axis' (did you mean axes?); known: name, models, base, presets, axes, batch, engine, constraints, objectives, fpga, dataset`,
    );
    expect(errorOf('models: [mnsit]\n')).toBe(
      `${file}:1:10: models.0: unknown zoo model 'mnsit' (did you mean mnist?); zoo: mnist, cifar10, vgg16, resnet; files: {file: PATH}`,
    );
    expect(errorOf('models: [{file: net.bin}]\n')).toMatch(
      /models\.0\.format: cannot tell the model format of 'net\.bin': add format: json\|integernet\|nbm\|onnx$/,
    );
    expect(errorOf('models: [mnist]\npresets: [edge, tiny]\n')).toMatch(
      /presets\.1: unknown preset "tiny"; known: default, edge, large, xl, ice40-board$/,
    );
    expect(errorOf('models: [mnist]\nbase: preset:egde\n')).toMatch(/base: preset:egde: unknown preset 'egde'/);
    expect(errorOf('models: [mnist]\nbase: {array: {rows: 3}}\n')).toBe(
      `${file}:2:7: base: config.array.rows: must be a power of two (the hardware indexes it with address bits), got 3`,
    );
    expect(errorOf('models: [mnist]\nbase: missing.json\n')).toMatch(
      /base: cannot read config file 'missing\.json' \(ENOENT\)/,
    );
    expect(errorOf('models: [mnist]\nbatch: [1, 0]\n')).toMatch(/batch\.1: must be an integer in \[1, 65536\], got 0$/);
    expect(errorOf('models: [mnist]\nengine: fsat\n')).toMatch(
      /engine: must be one of timing, fast, cycle, got "fsat" \(did you mean fast\?\)$/,
    );
    expect(errorOf('models: [mnist]\nconstraints: ["area < two"]\n')).toMatch(
      /constraints\.0: cannot read 'area < two': write 'METRIC OP NUMBER'/,
    );
    expect(errorOf('models: [mnist]\nconstraints: ["aera <= 2"]\n')).toMatch(
      /constraints\.0: unknown metric 'aera' \(did you mean area\?\)/,
    );
    expect(errorOf('models: [mnist]\nconstraints: [{fits: ice40-hx1k}]\n')).toMatch(
      /constraints\.0\.fits: unknown device "ice40-hx1k" \(did you mean ice40-hx8k\?\)/,
    );
    expect(errorOf('models: [mnist]\nobjectives: [latency, luts]\n')).toMatch(/fpga: luts needs an fpga section/);
    expect(errorOf('models: [mnist]\nconstraints: [{fits: ice40-hx8k}]\nfpga: {target: xilinx}\n')).toMatch(
      /fpga\.target: is xilinx but constraint 'fits ice40-hx8k' is a ice40 device/,
    );
    expect(errorOf('models: [mnist]\naxes:\n  array.size: [8]\n  array.rows: [8]\n')).toMatch(
      /axes\.array\.rows: sets the same config field as axis 'array\.size'/,
    );
    expect(errorOf('models: [mnist]\naxes:\n  dram.latency: [8, 8]\n')).toMatch(/axes\.dram\.latency: lists 8 twice/);
    expect(errorOf('models: [mnist]\nbase: preset:edge\npresets: [edge]\n')).toMatch(
      /presets: give either `base` or `presets`/,
    );
    expect(errorOf('models: [mnist]\nname: "a b"\n')).toMatch(/name: must be 1-64 letters/);
  });
});
