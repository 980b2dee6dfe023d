/**
 * Smoke test of the benchmark harness: each piece runs on a trivially small
 * input and produces well-formed tables. No timing assertions: speed goals are
 * benchmark figures (npm run bench), not tests.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import {
  BenchUsageError,
  RssSampler,
  SECTIONS,
  countMismatches,
  defaultCli,
  int8Matmul,
  int8MatmulDot8,
  layerQuality,
  markdownSection,
  measureCeiling,
  measureEngine,
  parseBenchArgs,
  qualityGoals,
  qualityTable,
  renderSection,
  renderTable,
  runSection,
  simulateDataset,
  zooWorkload,
  type BenchContext,
  type Section,
} from '../../bench/index.js';
import { runReference, zooNetwork } from '../../models/index.js';
import { simulate } from '../../sim/index.js';

function ctx(): BenchContext {
  return {
    options: { quick: true, mnistBatch: 2, referenceModel: '/nonexistent/model.txt', cli: defaultCli() },
    sampler: new RssSampler(),
    ceiling: undefined,
    log: () => {},
  };
}

describe('bench harness', () => {
  it('parses section names, aliases, --skip and options; rejects bad input with a typed error', () => {
    const all = parseBenchArgs([]);
    expect(all.sections).toEqual(SECTIONS.map((s) => s.name));
    const some = parseBenchArgs(['compiler', 'sim', '--json', 'out.json', '--mnist-batch', '10']);
    expect(some.sections).toEqual(['sim', 'compiler']); // run order, not argv order
    expect(some.json).toBe('out.json');
    expect(some.options.mnistBatch).toBe(10);
    expect(parseBenchArgs(['--skip', 'verilator,mnist']).sections).not.toContain('mnist-end-to-end');
    expect(() => parseBenchArgs(['simm'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['simm'])).toThrow(/unknown section 'simm'.*sim/);
    expect(() => parseBenchArgs(['--mnist-batch', 'x'])).toThrow(/--mnist-batch/);
    expect(() => parseBenchArgs(['--json'])).toThrow(/needs a value/);
  });

  it('the ceiling kernels compute the same matmul', () => {
    const [p, k, n] = [3, 5, 8];
    const a = Int8Array.from({ length: p * k }, (_, i) => (i % 15) + 1);
    const w = Int8Array.from({ length: k * n }, (_, i) => (i % 15) - 7);
    const wT = new Int8Array(k * n);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) wT[c * k + r] = w[r * n + c]!;
    const c1 = new Int32Array(p * n);
    const c2 = new Int32Array(p * n);
    int8Matmul(a, w, c1, p, k, n);
    int8MatmulDot8(a, wT, c2, p, k, n);
    const naive = new Int32Array(p * n);
    for (let i = 0; i < p; i++)
      for (let j = 0; j < n; j++) for (let r = 0; r < k; r++) naive[i * n + j]! += a[i * k + r]! * w[r * n + j]!;
    expect(c1).toEqual(naive);
    expect(c2).toEqual(naive);
    const rows = measureCeiling([{ pixels: 4, k: 8, n: 8 }], { minMs: 1 });
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r.macPerSecond).toBeGreaterThan(0);
  });

  it('measures an engine, rates layers and renders tables on a tiny network', () => {
    const w = zooWorkload('mnist', DEFAULT_CONFIG, { inputSize: 8 });
    const run = measureEngine(w.label, w.program, 'timing', { minMs: 1 });
    expect(run.cycles).toBeGreaterThan(0);
    expect(run.instructions).toBe(w.program.code.length);
    const r = simulate(w.program, { engine: 'timing' });
    const rows = layerQuality(w.net, r.counters.layers, DEFAULT_CONFIG);
    expect(rows.map((x) => x.name)).toEqual(w.program.layers.map((l) => l.name));
    expect(rows.find((x) => x.name === 'conv2')?.judged).toBe(true); // 16 -> 16 channels
    expect(rows.find((x) => x.name === 'conv1')?.judged).toBe(false); // 1 input channel
    const goals = qualityGoals(rows);
    expect(goals.length).toBe(rows.filter((x) => x.judged).length + 1);
    const text = renderTable(qualityTable(rows, w.program, r.cycles, DEFAULT_CONFIG));
    expect(text).toContain('conv2 *');
  });

  it('simulates a tiny dataset bit-exactly against the reference', () => {
    const net = zooNetwork('mnist', { inputSize: 8 });
    const images = Uint8Array.from({ length: 3 * 64 }, (_, i) => (i * 37) % 256);
    const run = simulateDataset(net, DEFAULT_CONFIG, images, 3, 2); // one batch of 2, one remainder of 1
    const ref = runReference(net, images, 3);
    expect(countMismatches(run.outputs, ref.output)).toBe(0);
    expect(run.cycles).toBeGreaterThan(0);
  });

  it('runs a section, and reports a missing input or a failure without throwing', async () => {
    const c = ctx();
    const ceiling = SECTIONS.find((s) => s.name === 'ceiling')!;
    const ok = await runSection(ceiling, c); // quick: two small shapes, 100 ms each
    expect(ok.status).toBe('ok');
    expect(c.ceiling!.macPerSecond).toBeGreaterThan(0);
    // the WebAssembly kernel is built by npm run build; a C compiler is on this machine (and CI's)
    expect(c.ceiling!.wasmMacPerSecond).toBeGreaterThan(0);
    expect(c.ceiling!.source).toBe('native C');
    expect(renderSection(ok)).toMatch(/native C \((avx512-vnni|avx-vnni|avx2|scalar)/);
    expect(renderSection(ok)).toContain('MAC/s');
    expect(markdownSection(ok)).toContain('| kernel |');
    const mnist = await runSection(
      SECTIONS.find((s) => s.name === 'mnist-end-to-end')!,
      c,
    );
    expect(mnist.status).toBe('unavailable');
    expect(mnist.message).toContain('/nonexistent/model.txt');
    const broken: Section = {
      name: 'broken',
      title: 'throws',
      run: () => {
        throw new BenchUsageError('bad thing', 'here');
      },
    };
    const failed = await runSection(broken, c);
    expect(failed.status).toBe('failed');
    expect(failed.message).toBe('BenchUsageError: here: bad thing');
  });
});
