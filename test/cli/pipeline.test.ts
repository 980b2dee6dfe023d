/** compile -> program file -> sim / disasm / report, zoo export, demo: the built binary end to end. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { requireChromium } from './chromium.js';
import { checkReportPage } from './report-check.js';
import { AUTHORS_MODEL, ensureBuilt, expectUserError, nibble } from './nibble.js';

const haveModel = existsSync(AUTHORS_MODEL);
const chromium = requireChromium('test/cli/pipeline.test.ts');
let tmp: string;

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-pipeline-'));
});

describe('zoo', () => {
  test('list --json', async () => {
    const r = await nibble(['zoo', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const names = JSON.parse(r.stdout).networks.map((n: { name: string }) => n.name);
    expect(names).toEqual(expect.arrayContaining(['mnist', 'cifar10', 'vgg16', 'resnet']));
  });

  test('export a zoo network, then compile, simulate and evaluate the JSON model', async () => {
    const model = join(tmp, 'mnist.json');
    const e = await nibble(['zoo', 'export', 'mnist', '-o', model, '--seed', '3', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).macs).toBe(697088);
    const prog = join(tmp, 'mnist.nbl');
    const listing = join(tmp, 'mnist.s');
    const c = await nibble(['compile', model, '-o', prog, '--listing', listing, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const cdoc = JSON.parse(c.stdout);
    expect(cdoc.instructions).toBeGreaterThan(10);
    expect(cdoc.macs).toBe(697088);
    expect(readFileSync(listing, 'utf8')).toMatch(/GEMM/);

    const s = await nibble(['sim', prog, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const sdoc = JSON.parse(s.stdout);
    expect(sdoc.cycles).toBeGreaterThan(0);
    expect(sdoc.randomInputs).toEqual(['input']);
    expect(sdoc.counters.array.usefulMacs).toBe(697088);
    expect(sdoc.layers.length).toBe(cdoc.layers.length);
    expect(sdoc.outputs.output).toHaveLength(10);
    // roofline accounting (sim/roofline.ts): a row per layer, the whole program at T, nothing below its bound
    expect(sdoc.roofline.layers.map((l: { name: string }) => l.name)).toEqual(
      sdoc.layers.map((l: { name: string }) => l.name),
    );
    expect(sdoc.roofline.network.cycles).toBe(sdoc.cycles);
    expect(sdoc.roofline.layers[0].inputPasses).toBe(2); // 8-bit pixels: two nibble planes
    // (a layer's bounds are not floors for its span: prefetched weights, passes overlapping the layer before;
    // test/sim/roofline.test.ts)
    for (const l of sdoc.roofline.layers) expect(l.ratio).toBeGreaterThan(0.5);
    expect(sdoc.roofline.network.ratio).toBeGreaterThanOrEqual(1);

    // the same cycles from the timing engine; given inputs are used and reported as such
    const t = JSON.parse((await nibble(['sim', prog, '--engine', 'timing', '--json'])).stdout);
    expect(t.cycles).toBe(sdoc.cycles);
    const input = join(tmp, 'zeros.json');
    writeFileSync(input, JSON.stringify({ input: new Array(784).fill(0) }));
    const z = JSON.parse((await nibble(['sim', prog, '--input', input, '--json'])).stdout);
    expect(z.randomInputs).toEqual([]);
    expect(z.cycles).toBe(sdoc.cycles);

    const human = await nibble(['sim', prog]);
    expect(human.stdout).toMatch(/seeded random values/);
    expect(human.stdout).toMatch(/roofline +cycles +compute bound +DRAM bound +bound by +cycles\/bound/);
    expect(human.stdout).toMatch(/whole program +[\d,]+ +[\d,]+ +[\d,]+ +(compute|dram) +\d+\.\d\dx/);

    const run = await nibble(['run', '--model', model, '--engine', 'sim', '--limit', '20', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const rdoc = JSON.parse(run.stdout);
    expect(rdoc.sim.cyclesPerInference).toBe(sdoc.cycles);
    const ref = JSON.parse((await nibble(['run', '--model', model, '--limit', '20', '--json'])).stdout);
    expect(rdoc.correct).toBe(ref.correct);
  });

  test('a model that does not fit the machine: one-line CompileError naming the layer and the config field', async () => {
    const tiny = join(tmp, 'tiny.json');
    writeFileSync(
      tiny,
      JSON.stringify({
        array: { rows: 4, cols: 4 },
        scratchpad: { inputEntries: 16, weightEntries: 16, accEntries: 16, outputEntries: 16, paramEntries: 1 },
        dram: { sizeBytes: 1 << 20 },
      }),
    );
    const model = join(tmp, 'fit.json');
    expect((await nibble(['zoo', 'export', 'mnist', '-o', model])).code).toBe(0);
    expectUserError(
      await nibble(['compile', model, '--config', tiny, '-o', join(tmp, 'nofit.nbl')]),
      /layer \d+ '.*'.*scratchpad\./,
    );
  });

  test('unknown zoo network', async () =>
    expectUserError(await nibble(['zoo', 'export', 'alexnet', '-o', join(tmp, 'x.json')]), /alexnet/));
  test('bad --input file', async () => {
    const model = join(tmp, 'm2.json');
    expect((await nibble(['zoo', 'export', 'mnist', '-o', model])).code).toBe(0);
    const prog = join(tmp, 'm2.nbl');
    expect((await nibble(['compile', model, '-o', prog])).code).toBe(0);
    const input = join(tmp, 'short.json');
    writeFileSync(input, JSON.stringify({ input: [1, 2, 3] }));
    expectUserError(await nibble(['sim', prog, '--input', input]), /needs 784 values/);
    // out-of-range values name the file and the index; 1e300 must not wrap to 0 in an Int32Array
    for (const [v, shown] of [
      [256, '256'],
      [-1, '-1'],
      [1e300, '1e+300'],
    ] as const) {
      const values = new Array<number>(784).fill(0);
      values[5] = v;
      writeFileSync(input, JSON.stringify({ input: values }));
      expectUserError(
        await nibble(['sim', prog, '--input', input]),
        new RegExp(
          `short\\.json: input 'input'\\[5\\] = ${shown.replace('+', '\\+')} is outside the 8-bit unsigned range \\[0, 255\\]`,
        ),
      );
    }
  });
});

describe('demo', () => {
  test('runs in a few seconds and reports accuracy, cycles, latency, throughput', async () => {
    const t0 = Date.now();
    const r = await nibble(['demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/top-1 accuracy\s+\d+\.\d\d %/);
    expect(r.stdout).toMatch(/cycles \/ inference/);
    expect(r.stdout).toMatch(/bit-exact\s+yes: outputs identical to the reference executor on all 100 images/);
    expect(r.stdout).toMatch(/inferences\/s/);
    expect(r.stdout).toMatch(/nibble run --model/);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const j = JSON.parse((await nibble(['demo', '--images', '20', '--json'])).stdout);
    expect(j.images).toBe(20);
    expect(j.sim.cyclesPerInference).toBeGreaterThan(0);
    expect(j.bitExact).toBe(true);
    expect(j.mismatchedImages).toBe(0);
    // the trained model the repository embeds (if present) must actually classify
    if (j.trained) expect(j.accuracy).toBeGreaterThan(0.9);
    else expect(r.stdout).toMatch(/random weights/);
  });
});

describe.skipIf(!haveModel)("the authors' MNIST model through the compiler and simulator", () => {
  test('report: one self-contained HTML file that renders in Chromium', { timeout: 120_000 }, async (ctx) => {
    const html = join(tmp, 'mnist.html');
    const r = await nibble(['report', AUTHORS_MODEL, '-o', html, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    for (const id of JSON.parse(r.stdout).charts) expect(text).toContain(`<svg id="${id}"`);
    if (!chromium) return ctx.skip();
    const doc = JSON.parse(r.stdout);
    expect(await checkReportPage(chromium, html, { charts: doc.charts, layers: doc.layers })).toEqual([]);
  });

  test(
    'flagship: all 10,000 test images through compiler + fast simulator = 99.39 %, bit-identical to the reference',
    { timeout: 300_000 },
    async () => {
      const r = await nibble(
        [
          'run',
          '--model',
          AUTHORS_MODEL,
          '--format',
          'integernet',
          '--dataset',
          'mnist-test',
          '--engine',
          'sim',
          '--check',
          '--json',
        ],
        { timeoutMs: 290_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.images).toBe(10000);
      expect(doc.correct).toBe(9939);
      expect(doc.accuracyPercent).toBe(99.39);
      expect(doc.check.bitExact).toBe(true);
      expect(doc.sim.cyclesPerInference).toBeGreaterThan(0);
      expect(doc.sim.latencyUs).toBeCloseTo(doc.sim.batchCycles / 500, 6);
      expect(doc.sim.inferencesPerSecond).toBeGreaterThan(0);
    },
  );
});
