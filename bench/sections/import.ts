/**
 * Importing real models: the largest zoo network (VGG-16 at 224x224) through
 * model format 2 (load time and peak memory, each in a process of its own),
 * and Brevitas TFC-2W2A (../shared/onnx) imported from QONNX, run on the
 * simulator over the 10,000 MNIST test images next to the model's own
 * semantics (the float executor) and the published 96.60 %.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import {
  applyInputTransform,
  hostScores,
  importOnnxGraph,
  loadMnist,
  modelOutputs,
  readOnnxFile,
  saveModelBinary,
  top1Accuracy,
  zooNetwork,
} from '../../models/index.js';
import { timeOnce } from '../measure.js';
import { ms, pct, type Goal } from '../report.js';
import { SectionUnavailable, type BenchContext, type Section, type SectionOutput } from '../section.js';
import { simulateDataset } from './mnist.js';

export const PUBLISHED_TFC_ACCURACY = 0.966;

interface ChildResult {
  loadMs: number;
  maxRssMiB: number;
  compileMs?: number;
  instructions?: number;
}

function child(mode: 'load' | 'compile', file: string): ChildResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'import-child.js');
  const out = execFileSync(process.execPath, [script, mode, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

function vgg(
  ctx: BenchContext,
  dir: string,
): { rows: (string | number)[][]; goals: Goal[]; data: Record<string, unknown> } {
  const size = ctx.options.quick ? 64 : 224;
  ctx.log(`import: building the zoo VGG-16 at ${size}x${size}`);
  const net = zooNetwork('vgg16', { inputSize: size });
  const file = join(dir, 'vgg16.nbm');
  const save = timeOnce(() => saveModelBinary(file, net), ctx.sampler);
  const bytes = statSync(file).size;
  ctx.log('import: loading it in a fresh process');
  const load = child('load', file);
  const rows: (string | number)[][] = [
    [`write format 2 (${(bytes / 2 ** 20).toFixed(1)} MiB)`, ms(save.ms), '-'],
    ['load format 2 (fresh process)', ms(load.loadMs), `${load.maxRssMiB.toFixed(0)} MiB`],
  ];
  let compile: ChildResult | undefined;
  if (!ctx.options.quick) {
    ctx.log('import: load + compile in a fresh process');
    compile = child('compile', file);
    rows.push([
      'load + compile (default config, fresh process)',
      ms(compile.loadMs + (compile.compileMs ?? 0)),
      `${compile.maxRssMiB.toFixed(0)} MiB`,
    ]);
  }
  const full = size === 224;
  return {
    rows,
    goals: [
      {
        name: 'VGG-16 224x224 loads (format 2)',
        target: '< 5 s',
        actual: `${(load.loadMs / 1000).toFixed(2)} s`,
        met: full ? load.loadMs < 5000 : undefined,
      },
      {
        name: 'VGG-16 224x224 load peak memory',
        target: '< 1024 MiB',
        actual: `${load.maxRssMiB.toFixed(0)} MiB`,
        met: full ? load.maxRssMiB < 1024 : undefined,
      },
    ],
    data: { vggInputSize: size, fileBytes: bytes, saveMs: save.ms, load, ...(compile ? { compile } : {}) },
  };
}

function tfc(
  ctx: BenchContext,
  path: string,
): { rows: (string | number)[][]; goals: Goal[]; data: Record<string, unknown> } {
  const t = timeOnce(() => importOnnxGraph(readOnnxFile(path), { name: 'tfc-2w2a' }), ctx.sampler);
  const lowered = t.value;
  const data = loadMnist({ set: 'test', ...(ctx.options.quick ? { limit: 500 } : {}) });
  ctx.log(`import: TFC-2W2A, the model's semantics (float executor) over ${data.count} images`);
  const model = modelOutputs(readOnnxFile(path), lowered, lowered.host, data.images, data.count);
  const modelAcc = top1Accuracy(model, 10, data.labels);
  ctx.log(`import: TFC-2W2A on the simulator over ${data.count} images`);
  const net = lowered.network;
  const inputs = applyInputTransform(lowered.host.input!, data.images, net.input.channels, data.count);
  const sim = simulateDataset(net, DEFAULT_CONFIG, inputs, data.count, ctx.options.mnistBatch, ctx.sampler);
  const simAcc = top1Accuracy(hostScores(lowered.host, sim.outputs, data.count), 10, data.labels);
  const full = data.count === 10000;
  const gap = Math.abs(modelAcc.accuracy - simAcc.accuracy);
  const exactCh = lowered.requants.reduce((s, r) => s + r.exactChannels, 0);
  const allCh = lowered.requants.reduce((s, r) => s + r.channels.length, 0);
  return {
    rows: [
      ['import tfc-2w2a.onnx (QONNX)', ms(t.ms), `${exactCh}/${allCh} requant channels exact`],
      [`model semantics (float executor), ${data.count} images`, '-', pct(modelAcc.accuracy, 2)],
      [
        `imported network on the simulator (fast engine), ${data.count} images`,
        ms(sim.compileMs + sim.simulateMs),
        pct(simAcc.accuracy, 2),
      ],
    ],
    goals: [
      {
        name: 'TFC-2W2A on the simulator vs the model',
        target: 'within 0.5 points',
        actual: `${(100 * gap).toFixed(2)} points (${pct(simAcc.accuracy, 2)} vs ${pct(modelAcc.accuracy, 2)}; published ${pct(PUBLISHED_TFC_ACCURACY, 2)})`,
        met: full ? gap <= 0.005 : undefined,
      },
    ],
    data: {
      importMs: t.ms,
      images: data.count,
      modelAccuracy: modelAcc.accuracy,
      simulatorAccuracy: simAcc.accuracy,
      exactChannels: exactCh,
      channels: allCh,
      cycles: sim.cycles,
    },
  };
}

export const importSection: Section = {
  name: 'import',
  title: 'VGG-16 through model format 2; Brevitas TFC-2W2A imported and simulated on MNIST',
  run(ctx: BenchContext): SectionOutput {
    const tfcPath = join(dirname(ctx.options.referenceModel), '..', 'onnx', 'tfc-2w2a.onnx');
    if (!existsSync(tfcPath)) throw new SectionUnavailable(`the TFC-2W2A model is not at ${tfcPath}: skipped`);
    const dir = mkdtempSync(join(tmpdir(), 'nibble-bench-import-'));
    try {
      const v = vgg(ctx, dir);
      const f = tfc(ctx, tfcPath);
      const notes = [
        'load = read, unpack and checksum every section, then validate the network (analyzeNetwork); peak memory is the child process maxRSS',
        "TFC-2W2A: every requant fitted per channel; the first layer's non-power-of-two BatchNorm ratios are converted (measured), the output leaves in 4-bit slices summed on the host",
      ];
      if (ctx.options.quick) notes.push('quick run: VGG-16 at 64x64 and 500 MNIST images, goals not judged');
      return {
        tables: [
          { title: 'VGG-16 through model format 2', columns: ['step', 'time', 'peak memory'], rows: v.rows },
          { title: 'Brevitas TFC-2W2A (QONNX) on MNIST', columns: ['step', 'time', 'result'], rows: f.rows },
        ],
        goals: [...v.goals, ...f.goals],
        notes,
        data: { vgg: v.data, tfc: f.data },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
