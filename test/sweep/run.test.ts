/** Running sweeps in this process: failed points, invalid combinations, resume, constraints, an empty space, crashes. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { configHash, ModelError } from '../../arch/index.js';
import { saveModelJson, zooNetwork } from '../../models/index.js';
import {
  analyze,
  LocalExecutor,
  ModelCache,
  parseSpec,
  runSweep,
  SweepSpecError,
  topPoints,
  withField,
  type Executor,
  type SweepRunOptions,
} from '../../sweep/index.js';
import { thrownMessage } from '../thrown.js';

const inline: SweepRunOptions['executor'] = (opts) => new LocalExecutor(1, opts);

function setup(spec: string) {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-run-'));
  const file = join(dir, 'space.yaml');
  writeFileSync(file, spec);
  return { dir, spec: parseSpec(spec, file), out: join(dir, 'out') };
}

describe('runSweep', () => {
  test('a model that does not fit some machines: failed points with their reason, the sweep goes on; resume recomputes nothing', async () => {
    const { spec, out } = setup(
      'models: [mnist]\naxes:\n  array.size: [8, 64]\n  scratchpad.inputEntries: [64, 2048]\n  scratchpad.weightEntries: [32, 2048]\n',
    );
    const run = await runSweep(spec, { outDir: out, executor: inline });
    expect(run.points).toHaveLength(8);
    expect(run.records).toHaveLength(8);
    expect(run.ran).toBe(8);
    const byStage = (s: string) => run.records.filter((r) => r.stage === s);
    // 64 x 64 with 32 WGT entries is no machine: recorded as a failed point, never run
    expect(byStage('config')).toHaveLength(2);
    expect(byStage('config')[0]!.reason).toBe(
      'config.scratchpad.weightEntries: 32 entries cannot hold one 64x64 weight tile (needs 64)',
    );
    // 64 INP entries cannot hold mnist's first row: the compiler's reason
    expect(byStage('compile').length).toBeGreaterThanOrEqual(2);
    expect(byStage('compile')[0]!.reason).toMatch(
      /^layer 0 'conv1': .* but scratchpad\.inputEntries is 64: raise scratchpad\.inputEntries$/,
    );
    const ok = run.records.filter((r) => r.status === 'ok');
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) {
      expect(r.metrics.cycles).toBeGreaterThan(0);
      expect(r.metrics.area).toBeGreaterThan(0);
      expect(r.layers.length).toBeGreaterThan(3);
      expect(r.layers.reduce((s, l) => s + l.macs, 0)).toBeGreaterThan(0);
    }
    const lines = readFileSync(run.resultsFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(8);
    const again = await runSweep(spec, { outDir: out, executor: inline });
    expect(again.ran).toBe(0);
    expect(again.reused).toBe(8);
    expect(readFileSync(run.resultsFile, 'utf8').trimEnd().split('\n')).toHaveLength(8);
    const a = analyze(again.records, spec.constraints, spec.objectives);
    expect(a.failures[0]!.count).toBeGreaterThanOrEqual(2);
    expect(topPoints(a, 3).length).toBe(Math.min(3, a.feasible.length));
  });

  test('constraints on config-only figures exclude points before they run; an all-excluded space is an error', async () => {
    // the default machine at 4, 8, 16: 0.429, 0.829, 1.667 mm2 (two ACC RAMs with gemmBeside)
    const { spec, out } = setup('models: [mnist]\naxes:\n  array.size: [4, 8, 16]\nconstraints: ["area <= 1"]\n');
    const run = await runSweep(spec, { outDir: out, executor: inline });
    expect(run.excluded.map((e) => e.point.params['array.size'])).toEqual([16]);
    expect(run.excluded[0]!.reason).toBe('area <= 1');
    expect(run.records).toHaveLength(2);
    const empty = setup('models: [mnist]\naxes:\n  array.size: [8, 16]\nconstraints: ["area <= 0.01"]\n');
    const msg = await runSweep(empty.spec, { outDir: empty.out, executor: inline }).then(
      () => '',
      (e: Error) => (expect(e).toBeInstanceOf(SweepSpecError), e.message),
    );
    expect(msg).toMatch(
      /space\.yaml: the design space is empty: all 2 points break a constraint before running \('area <= 0\.01' excludes 2; the smallest area in the space is 0\.\d+ mm2\)$/,
    );
  });

  test('FPGA resources from the fitted model; a fits constraint keeps only machines that fit the board', async () => {
    const { spec, out } = setup(
      'models: [mnist]\nbase: {bits: {accumulator: 16}, scratchpad: {inputEntries: 256, weightEntries: 256, accEntries: 128, outputEntries: 256, paramEntries: 8}, dram: {sizeBytes: 1048576}}\naxes:\n  array.size: [2, 4, 16]\nconstraints: [{fits: ice40-hx8k}]\nobjectives: [latency, luts]\n',
    );
    const run = await runSweep(spec, { outDir: out, executor: inline });
    expect(run.excluded.map((e) => e.point.params['array.size'])).toEqual([16]);
    expect(run.excluded[0]!.reason).toMatch(/^fits ice40-hx8k \(luts \d+ > 7680\)$/);
    for (const r of run.records) {
      if (r.status !== 'ok') continue;
      expect(r.fpga).toMatchObject({ target: 'ice40', source: 'model' });
      expect(r.metrics.luts).toBeGreaterThan(1000);
    }
  });

  test('a switch axis: gemmBeside false and true as two machines, in the records, the CSV and the area', async () => {
    const { spec, out } = setup('models: [mnist]\nbase: preset:edge\naxes:\n  gemmBeside: [false, true]\n');
    const run = await runSweep(spec, { outDir: out, executor: inline });
    expect(run.records.map((r) => [r.status, r.params, r.config.gemmBeside])).toEqual([
      ['ok', { gemmBeside: false }, false],
      ['ok', { gemmBeside: true }, true],
    ]);
    const [off, on] = run.records;
    // the second ACC RAM (edge: 512 entries x 8 lanes x 32 bits = 16 KB, 8 banks of 2 KB at 0.015 mm2, x0.38 at 28 nm)
    expect(on!.metrics.area! - off!.metrics.area!).toBeCloseTo(8 * 0.015 * 0.38, 9);
    expect(on!.metrics.cycles!).toBeLessThanOrEqual(off!.metrics.cycles!);
    const csv = readFileSync(run.csvFile, 'utf8').split('\n');
    const col = csv[0]!.split(',').indexOf('gemmBeside');
    expect(col).toBeGreaterThan(0);
    expect(csv.slice(1, 3).map((l) => l.split(',')[col])).toEqual(['false', 'true']);
  });

  test('fpga synth: true reads real synthesis results from the cache by config hash (no Yosys run here)', async () => {
    const { spec, out } = setup('models: [mnist]\naxes:\n  array.size: [4, 8]\nfpga: {target: ice40, synth: true}\n');
    mkdirSync(join(out, 'synth-cache'), { recursive: true });
    const cached = (rows: number) => ({
      luts: 1000 * rows,
      ffs: 10 * rows,
      brams: rows,
      dsps: 0,
      target: 'ice40',
      source: 'synth',
    });
    for (const n of [4, 8]) {
      const cfg = withField(spec.bases[0]!.config, 'array.size', n);
      writeFileSync(join(out, 'synth-cache', `${configHash(cfg)}-ice40.json`), JSON.stringify(cached(n)));
    }
    const run = await runSweep(spec, { outDir: out, executor: inline });
    expect(run.records.map((r) => r.fpga)).toEqual([cached(4), cached(8)]);
    expect(run.records.map((r) => r.metrics.luts)).toEqual([4000, 8000]);
  });

  test('a point whose worker crashed is not stored, is reported, and runs again next time', async () => {
    const { spec, out } = setup('models: [mnist]\naxes:\n  array.size: [8, 16]\n');
    const crashing: SweepRunOptions['executor'] = (opts) => {
      const real = new LocalExecutor(1, opts);
      const ex: Executor = {
        workers: 1,
        run: (tasks, cb) =>
          real.run(tasks, {
            onOutcome: (t, o, w) =>
              t === tasks[0] ? cb.onCrash(t, 'worker thread failed: out of memory') : cb.onOutcome(t, o, w),
            onCrash: cb.onCrash,
          }),
        close: () => real.close(),
      };
      return ex;
    };
    const run = await runSweep(spec, { outDir: out, executor: crashing });
    expect(run.crashed.map((c) => c.message)).toEqual(['worker thread failed: out of memory']);
    expect(run.records).toHaveLength(1);
    const again = await runSweep(spec, { outDir: out, executor: inline });
    expect(again.ran).toBe(1);
    expect(again.records).toHaveLength(2);
  });

  test('a model file changed after the sweep started is refused by the workers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-model-'));
    const file = join(dir, 'net.json');
    writeFileSync(file, saveModelJson(zooNetwork('mnist', { inputSize: 8, calibration: 'analytic' })));
    expect(
      thrownMessage(
        () => new ModelCache().get({ kind: 'file', path: file, format: 'json' }, '0123456789abcdef'),
        ModelError,
      ),
    ).toMatch(
      /^net\.json: the model changed since the sweep started \(hash [0-9a-f]{16}, expected 0123456789abcdef\): restart the sweep$/,
    );
  });
});
