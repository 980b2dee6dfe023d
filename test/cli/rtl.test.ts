/** nibble rtl / verify on a small machine (Verilator builds are cached per config under .cache/rtl). */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { configHash, DEFAULT_CONFIG, validateConfig } from '../../arch/index.js';
import { writeProgramFile } from '../../isa/index.js';
import { randomProgram } from '../../sim/index.js';
import { haveTools } from '../rtl/tools-required.js';
import { overflowProgram } from '../rtl/programs.js';
import { ensureBuilt, expectUserError, nibble } from './nibble.js';

const haveVerilator = haveTools('test/cli/rtl.test.ts', ['verilator']);

const SMALL = {
  array: { rows: 4, cols: 4 },
  scratchpad: { inputEntries: 256, weightEntries: 256, accEntries: 256, outputEntries: 256, paramEntries: 16 },
  dram: { sizeBytes: 1 << 20 },
};
/** Two PEs a side, tiny buffers: builds in well under a minute. */
const TINY = {
  array: { rows: 2, cols: 2 },
  bits: { weight: 4, activation: 4, accumulator: 16 },
  scratchpad: { inputEntries: 32, weightEntries: 8, accEntries: 16, outputEntries: 32, paramEntries: 2 },
  dram: { busBytes: 1, latency: 2, sizeBytes: 1 << 16 },
  queues: { load: 1, compute: 1, store: 1 },
  requantStages: 1,
};
let tmp: string;
let cfg: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-rtl-'));
  cfg = join(tmp, 'small.json');
  writeFileSync(cfg, JSON.stringify(SMALL));
});

describe('nibble rtl', () => {
  test('-o writes Verilog carrying the config hash', async () => {
    const dir = join(tmp, 'rtl');
    const r = await nibble(['rtl', '--config', cfg, '-o', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.output.files.length).toBeGreaterThan(0);
    const top = doc.output.files.find((f: string) => f.endsWith('nibble_top.v'));
    expect(readFileSync(top, 'utf8')).toContain(doc.configHash);
  });

  test.skipIf(!haveVerilator)(
    '--lint is clean; its log is kept in the -o directory or --log-dir',
    { timeout: 120_000 },
    async () => {
      const r = await nibble(['rtl', '--config', cfg, '--lint', '--json', '--log-dir', join(tmp, 'lint-logs')]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).lint.clean).toBe(true);
      expect(readdirSync(join(tmp, 'lint-logs'))).toEqual(['verilator-lint.log']);
      expectUserError(
        await nibble(['rtl', '--config', cfg, '--lint', '--log-dir', join(tmp, 'no', 'such')]),
        /no\/such: cannot create the directory: .*\/no does not exist/,
      );
    },
  );

  test('a config the ISA cannot encode is a user error', async () => {
    const bad = join(tmp, 'huge.json');
    writeFileSync(
      bad,
      JSON.stringify({
        scratchpad: { inputEntries: 1 << 20, weightEntries: 1 << 20, accEntries: 1 << 20, outputEntries: 1 << 20 },
        dram: { sizeBytes: 2 ** 32 },
      }),
    );
    expectUserError(await nibble(['rtl', '--config', bad, '-o', join(tmp, 'x')]), /huge\.json: scratchpad: LOAD needs/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
  });
});

describe('nibble verify --random: machine options', () => {
  test('--machines and --machine-seed: bad mixes are usage errors naming the options', async () => {
    expectUserError(
      await nibble(['verify', '--random', '4', '--machines', '2', '--config', cfg, '--rtl']),
      /--machines spreads the programs over random machines; --config fixes one/,
    );
    expectUserError(
      await nibble(['verify', '--random', '4', '--machine-seed', '2', '--config', cfg, '--rtl']),
      /--config and --machine-seed both fix the machine: give one/,
    );
    expectUserError(
      await nibble(['verify', '--random', '3', '--machines', '4', '--rtl']),
      /--machines 4 is more than the 3 program\(s\) of --random/,
    );
    expectUserError(
      await nibble(['verify', 'x.nbl', '--machines', '2', '--rtl']),
      /--machines and --machine-seed go with --random \(without --shell\)/,
    );
    expectUserError(await nibble(['verify', '--random', '3', '--machines', '0', '--rtl']), /machines/);
  });
});

describe.skipIf(!haveVerilator)('nibble verify --rtl', () => {
  test('random programs: --json with programs and mismatches, exit 0', { timeout: 300_000 }, async () => {
    const r = await nibble(['verify', '--random', '4', '--seed', '11', '--config', cfg, '--rtl', '--json'], {
      timeoutMs: 290_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.programs).toBe(4);
    expect(doc.mismatches).toBe(0);
  });

  test(
    'random machines: programs grouped by machine (one build per group), throughput reported',
    { timeout: 300_000 },
    async () => {
      // seeds 113..116 on 2 machines: randomConfig(113) and randomConfig(115), both 2x2 arrays (quick builds)
      const r = await nibble(['verify', '--random', '4', '--seed', '113', '--machines', '2', '--rtl', '--json'], {
        timeoutMs: 290_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.programs).toBe(4);
      expect(doc.mismatches).toBe(0);
      expect(doc.throughput.machines).toBe(2);
      expect(doc.throughput.builds).toBeLessThanOrEqual(2);
      expect(doc.throughput.programsPerHour).toBeGreaterThan(0);
      expect(doc.results.map((x: { name: string }) => x.name.replace(/ \(config .*/, ''))).toEqual([
        'random program seed 113 on machine seed 113',
        'random program seed 114 on machine seed 113',
        'random program seed 115 on machine seed 115',
        'random program seed 116 on machine seed 115',
      ]);
      // one machine of the run again, alone: the same config
      const one = await nibble([
        'verify',
        '--random',
        '1',
        '--seed',
        '116',
        '--machine-seed',
        '115',
        '--rtl',
        '--json',
      ]);
      expect(one.code, one.stderr).toBe(0);
      const again = JSON.parse(one.stdout);
      expect(again.results[0].name).toBe(doc.results[3].name);
      expect(again.throughput.builds).toBe(0);
      // the text form ends with the throughput line
      const text = await nibble(['verify', '--random', '2', '--seed', '113', '--machines', '1', '--rtl']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /2 program\(s\) on 1 machine\(s\) \(0 Verilator build\(s\), 0\.0 s; harness runs [\d.]+ s\) in [\d.]+ s: \d+ programs\/hour/,
      );
    },
  );

  test('a compiled program file and a model on real test images', { timeout: 300_000 }, async () => {
    const model = join(tmp, 'mnist.json');
    expect((await nibble(['zoo', 'export', 'mnist', '-o', model])).code).toBe(0);
    const prog = join(tmp, 'mnist.nbl');
    expect((await nibble(['compile', model, '--config', cfg, '-o', prog])).code).toBe(0);
    const p = await nibble(['verify', prog, '--rtl']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/1 program run\(s\) verified/);
    const m = await nibble(['verify', model, '--config', cfg, '--rtl', '--images', '2', '--json']);
    expect(m.code, m.stderr).toBe(0);
    const doc = JSON.parse(m.stdout);
    expect(doc.programs).toBe(2);
    expect(doc.mismatches).toBe(0);
  });

  test(
    'a model with 12 outputs and 4-bit inputs (any output count; the pixel transform is said)',
    { timeout: 300_000 },
    async () => {
      const model = join(tmp, 'mlp12.json');
      expect((await nibble(['zoo', 'export', 'mnist', '-o', model])).code).toBe(0);
      const net = JSON.parse(readFileSync(model, 'utf8'));
      // the zoo network with 4-bit inputs and 12 classes (two more output rows of zero weights)
      net.input.bits = 4;
      const fc = net.layers[net.layers.length - 2];
      const rq = net.layers[net.layers.length - 1];
      fc.outFeatures = 12;
      fc.weights.push(...new Array(2 * fc.inFeatures).fill(0));
      rq.bias.push(0, 0);
      rq.shift.push(0, 0);
      writeFileSync(model, JSON.stringify(net));
      const m = await nibble(['verify', model, '--config', cfg, '--rtl', '--images', '1', '--json']);
      expect(m.code, m.stderr).toBe(0);
      const doc = JSON.parse(m.stdout);
      expect(doc.mismatches).toBe(0);
      expect(doc.inputs).toBe("MNIST pixels >> 4 (0..15; the model's inputs are 4-bit)");
    },
  );

  test(
    'an overflowing program: the simulator and the RTL both report it, and the line says so',
    { timeout: 300_000 },
    async () => {
      const prog = join(tmp, 'overflow.nbl');
      writeFileSync(prog, writeProgramFile(overflowProgram([{ pshift: 7 }])));
      const r = await nibble(['verify', prog, '--rtl']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /overflow\.nbl \(simulator and RTL both report the accumulator overflow: ACC entry 0 lane 0 would become 53760, outside the 16-bit range \[-32768, 32767\]\)/,
      );
    },
  );

  test('usage: neither a target nor --random', async () =>
    expectUserError(await nibble(['verify', '--rtl']), /either a program\/model file or --random/));

  test("--vcd: the RTL's own waveform of one run; the build log kept in --log-dir", { timeout: 300_000 }, async () => {
    // a tiny machine: its --trace build takes under a minute
    const tiny = validateConfig({ ...structuredClone(DEFAULT_CONFIG), ...TINY });
    const prog = join(tmp, 'tiny.nbl');
    writeFileSync(prog, writeProgramFile(randomProgram(3, tiny)));
    const vcd = join(tmp, 'tiny.vcd');
    const logs = join(tmp, 'logs');
    const r = await nibble(['verify', prog, '--rtl', '--vcd', vcd, '--log-dir', logs, '--json'], {
      timeoutMs: 290_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.mismatches).toBe(0);
    const text = readFileSync(vcd, 'utf8');
    expect(text).toMatch(/\$var wire +1 \S+ clk \$end/);
    expect(text).toContain('$enddefinitions $end');
    // one dump per clock edge: reset (4 cycles), start, then the program's cycles up to done
    const stamps = text.match(/^#\d+$/gm)!.length;
    expect(stamps).toBeGreaterThanOrEqual(2 * doc.results[0].simCycles);
    expect(stamps).toBeLessThanOrEqual(2 * doc.results[0].simCycles + 14);
    expect(readdirSync(logs)).toEqual([`verilator-${configHash(tiny)}-trace.log`]);
    expect(readFileSync(join(logs, readdirSync(logs)[0]!), 'utf8')).toMatch(/make: Leaving directory/);
  });

  test('--vcd is for one run; --log-dir under a file is refused before any work', async () => {
    expectUserError(
      await nibble(['verify', '--random', '2', '--rtl', '--vcd', join(tmp, 'r.vcd')]),
      /--vcd dumps one program run: give a program or a model with one image, without --shell/,
    );
    const file = join(tmp, 'plain.txt');
    writeFileSync(file, 'x');
    expectUserError(
      await nibble(['verify', '--random', '2', '--rtl', '--log-dir', join(file, 'logs')]),
      /plain\.txt\/logs: cannot create the directory: .*plain\.txt is a file, not a directory/,
    );
  });
});

describe('report with synthesis results', () => {
  test('--resources adds the resource table', async () => {
    const model = join(tmp, 'm.json');
    expect((await nibble(['zoo', 'export', 'mnist', '-o', model, '--input-size', '12'])).code).toBe(0);
    const res = join(tmp, 'synth.json');
    const hash = JSON.parse((await nibble(['config', cfg, '--json'])).stdout).hash as string;
    const synth = {
      target: 'ice40',
      cells: 9000,
      cellTypes: {},
      luts: 8564,
      ffs: 6784,
      brams: 24,
      dsps: 0,
      seconds: 1,
    };
    writeFileSync(res, JSON.stringify({ configHash: hash, synth }));
    const html = join(tmp, 'r.html');
    const r = await nibble(['report', model, '--config', cfg, '--resources', res, '-o', html]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('Resources (synthesis)');
    expect(text).toContain('<td>LUTs</td><td>8564</td>');
    const report = (...extra: string[]) => nibble(['report', model, '--resources', res, '-o', html, ...extra]);
    writeFileSync(res, '{ nope');
    expectUserError(await report('--config', cfg), /synth\.json:1:3: not valid JSON: expected a key in double quotes/);
    // results of another machine, any JSON, an unknown field: errors, not a silently wrong table
    writeFileSync(res, JSON.stringify({ configHash: hash, synth }));
    expectUserError(
      await report(),
      /synth\.json: configHash: these results are for config [0-9a-f]{16}, the report's machine is config f9765646d11e98f6/,
    );
    writeFileSync(res, JSON.stringify({ hello: 'world' }));
    expectUserError(await report('--config', cfg), /synth\.json: \(top level\)\.hello: unknown field/);
    writeFileSync(res, JSON.stringify({ configHash: hash, synth: { ...synth, lut: 3 } }));
    expectUserError(await report('--config', cfg), /synth\.json: synth\.lut: unknown field \(did you mean luts\?\)/);
    writeFileSync(res, JSON.stringify({ configHash: hash, synth: { ...synth, luts: 'many' } }));
    expectUserError(
      await report('--config', cfg),
      /synth\.json: synth\.luts: must be a non-negative number, got "many"/,
    );
  });
});
