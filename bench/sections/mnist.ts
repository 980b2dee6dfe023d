/**
 * The authors' 4-bit MNIST model end to end: compiled for the default config
 * and simulated (fast engine) over the 10,000 test images, checked bit-exact
 * against the reference executor and for the published 99.39 % accuracy.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG, type ArchConfig, SimError } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { loadIntegerNetFile, loadMnist, runReference, top1Accuracy, type Network } from '../../models/index.js';
import { simulate } from '../../sim/index.js';
import { timeOnce, type RssSampler } from '../measure.js';
import { ms, pct, si, type Goal } from '../report.js';
import { SectionUnavailable, type BenchContext, type Section, type SectionOutput } from '../section.js';

export interface DatasetRun {
  images: number;
  batch: number;
  compileMs: number;
  simulateMs: number;
  /** CPU time of compile + simulate (this process, all threads) */
  cpuMs: number;
  /** simulated cycles over all images */
  cycles: number;
  outputs: Int32Array;
}

/**
 * Compile `net` for `batch` images (plus one program for the remainder) and
 * run the fast engine over `count` images of `images` (NCHW bytes).
 */
export function simulateDataset(
  net: Network,
  cfg: ArchConfig,
  images: Uint8Array,
  count: number,
  batch: number,
  sampler?: RssSampler,
): DatasetRun {
  const b = Math.min(batch, count);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const program = compileNetwork(net, cfg, { batch: b });
  const rest = count % b;
  const tail = rest > 0 ? compileNetwork(net, cfg, { batch: rest }) : undefined;
  const compileMs = performance.now() - t0;
  const inDesc = program.inputs[0]!;
  const outDesc = program.outputs[0]!;
  const imageSize = inDesc.shape[1] * inDesc.shape[2] * inDesc.shape[3];
  const outSize = outDesc.shape[1] * outDesc.shape[2] * outDesc.shape[3];
  const outputs = new Int32Array(count * outSize);
  let cycles = 0;
  const t1 = performance.now();
  for (let first = 0; first < count; first += b) {
    const n = Math.min(b, count - first);
    const p = n === b ? program : tail!;
    const r = simulate(p, {
      engine: 'fast',
      inputs: { [inDesc.name]: images.subarray(first * imageSize, (first + n) * imageSize) },
    });
    const out = r.outputs[outDesc.name];
    if (!out) throw new SimError(`no output '${outDesc.name}'`, 'bench mnist-end-to-end');
    outputs.set(out.subarray(0, n * outSize), first * outSize);
    cycles += r.cycles;
    sampler?.sample();
  }
  const simulateMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  return { images: count, batch: b, compileMs, simulateMs, cpuMs: (cpu.user + cpu.system) / 1000, cycles, outputs };
}

export function countMismatches(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let bad = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) bad++;
  return bad;
}

export const PUBLISHED_MNIST_ACCURACY = 0.9939;

export const mnistSection: Section = {
  name: 'mnist-end-to-end',
  title: "authors' 4-bit MNIST model, 10,000 test images, fast engine",
  run(ctx: BenchContext): SectionOutput {
    const path = ctx.options.referenceModel;
    if (!existsSync(path)) throw new SectionUnavailable(`the authors' model is not at ${path}: skipped`);
    const net = loadIntegerNetFile(path);
    const data = loadMnist({ set: 'test', ...(ctx.options.quick ? { limit: 200 } : {}) });
    const cfg = DEFAULT_CONFIG;
    ctx.log(`mnist-end-to-end: reference executor over ${data.count} images`);
    const ref = timeOnce(() => runReference(net, data.images, data.count), ctx.sampler);
    const refAcc = top1Accuracy(ref.value.output, 10, data.labels);
    ctx.log(`mnist-end-to-end: compiling (batch ${ctx.options.mnistBatch}) and simulating`);
    const sim = simulateDataset(net, cfg, data.images, data.count, ctx.options.mnistBatch, ctx.sampler);
    const simAcc = top1Accuracy(sim.outputs, 10, data.labels);
    const mismatches = countMismatches(sim.outputs, ref.value.output);
    const wallMs = sim.compileMs + sim.simulateMs;
    const seconds = (x: number) => (x / 1000).toFixed(2);
    const goals: Goal[] = [
      {
        name: 'compile + simulate all images',
        target: '< 60 s',
        actual: `${seconds(wallMs)} s`,
        met: data.count === 10000 ? wallMs < 60000 : undefined,
      },
      {
        name: 'simulator accuracy',
        target: pct(PUBLISHED_MNIST_ACCURACY, 2),
        actual: pct(simAcc.accuracy, 2),
        met: data.count === 10000 ? simAcc.correct === 9939 : undefined,
      },
      {
        name: 'simulator outputs == reference outputs',
        target: '0 differing values',
        actual: String(mismatches),
        met: mismatches === 0,
      },
    ];
    const notes = [
      "CPU time is this process's (all threads, GC included); wall time well above it means other work shared the 2 CPUs",
      `program batch ${sim.batch} images (--mnist-batch); the simulator reads the images as its input tensor, one program run per batch`,
    ];
    if (data.count !== 10000) notes.push(`quick run: ${data.count} images only, time and accuracy goals not judged`);
    return {
      tables: [
        {
          title: `MNIST test set (${data.count} images)`,
          columns: [
            'executor',
            'wall time',
            'CPU time',
            'images/s',
            'accuracy',
            'simulated cycles',
            'cycles/image',
            'sim cycles/s',
          ],
          rows: [
            [
              'reference (models/reference.ts)',
              ms(ref.ms),
              ms(ref.cpuMs),
              si((data.count / ref.ms) * 1000),
              pct(refAcc.accuracy, 2),
              '-',
              '-',
              '-',
            ],
            [
              `compile (${sim.batch}/program) + fast engine`,
              `${ms(sim.compileMs)} + ${ms(sim.simulateMs)}`,
              ms(sim.cpuMs),
              si((data.count / wallMs) * 1000),
              pct(simAcc.accuracy, 2),
              sim.cycles,
              Math.round(sim.cycles / data.count),
              si((sim.cycles / sim.simulateMs) * 1000),
            ],
          ],
        },
      ],
      goals,
      notes,
      data: {
        images: data.count,
        batch: sim.batch,
        referenceMs: ref.ms,
        referenceCpuMs: ref.cpuMs,
        cpuMs: sim.cpuMs,
        referenceAccuracy: refAcc.accuracy,
        compileMs: sim.compileMs,
        simulateMs: sim.simulateMs,
        simulatedCycles: sim.cycles,
        accuracy: simAcc.accuracy,
        correct: simAcc.correct,
        mismatches,
      },
    };
  },
};
