/**
 * Roofline (issue 12): per layer and whole network, the compute bound (MACs x
 * input nibble passes / (rows x cols)), the DRAM bound (distinct bytes on the
 * busier DMA channel / busBytes), the achieved cycles and their ratio to the
 * larger bound (sim/roofline.ts), for the authors' MNIST model and
 * CIFAR10NET_INT at batch 1 on the default 16x16 machine, and CIFAR-10 fc1 at
 * batch 16; with issue 12's goals.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/index.js';
import { loadIntegerNetFile } from '../../models/index.js';
import { rooflineOf, simulate, type Roofline, type RooflineRow } from '../../sim/index.js';
import { pct, type Goal, type Table } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { compiledWorkload, zooWorkload, type Workload } from '../workloads.js';

interface Measured {
  label: string;
  batch: number;
  roof: Roofline;
  /** conv layers with >= 16 input channels (the 1.15x goal) */
  wide: Set<string>;
}

function measure(w: Workload, batch: number): Measured {
  const r = simulate(w.program, { engine: 'timing' });
  const wide = new Set(
    w.net.layers.filter((l) => l.kind === 'conv2d' && l.inChannels >= 16).map((l) => l.name as string),
  );
  return { label: w.label, batch, roof: rooflineOf(w.program, r.counters), wide };
}

function table(m: Measured, cfg: ArchConfig): Table {
  const nn = cfg.array.rows * cfg.array.cols;
  const line = (l: RooflineRow, name = l.name) => [
    name,
    l.kind,
    l.macs,
    l.inputPasses,
    Math.round(l.computeBound),
    Math.max(l.readBytes, l.writeBytes),
    Math.round(l.dramBound),
    l.boundBy,
    l.cycles,
    `${l.ratio.toFixed(2)}x`,
    pct(l.cycles > 0 ? l.macs / (l.cycles * nn) : 0),
  ];
  return {
    title: `${m.label}, batch ${m.batch}, ${cfg.array.rows}x${cfg.array.cols}, ${cfg.dram.busBytes} bytes/cycle`,
    columns: [
      'layer',
      'kind',
      'MACs',
      'passes',
      'compute bound',
      'DRAM bytes',
      'DRAM bound',
      'bound by',
      'cycles',
      'cycles/bound',
      'utilization',
    ],
    rows: [...m.roof.layers.map((l) => line(l)), line(m.roof.network)],
  };
}

const perImage = (m: Measured) => m.roof.network.cycles / m.batch;

function goals(mnist: Measured | undefined, cifar: Measured, fc: Measured, quick: boolean): Goal[] {
  const out: Goal[] = [];
  if (mnist)
    out.push({
      name: "authors' MNIST model, cycles per inference (batch 1)",
      target: '<= 5,000',
      actual: perImage(mnist).toLocaleString('en-US'),
      met: perImage(mnist) <= 5000,
    });
  out.push({
    name: 'CIFAR10NET_INT cycles (batch 1)',
    target: '<= 770,000',
    actual: perImage(cifar).toLocaleString('en-US'),
    met: perImage(cifar) <= 770_000,
  });
  const convs = [mnist, cifar].flatMap((m) => (m ? m.roof.layers.filter((l) => l.kind === 'conv2d') : []));
  const worst = convs.reduce((a, l) => (l.ratio > a.ratio ? l : a), convs[0]!);
  out.push({
    name: `every conv layer within 2x of its bound (worst: ${worst.name})`,
    target: '<= 2.00x',
    actual: `${worst.ratio.toFixed(2)}x`,
    met: worst.ratio <= 2,
  });
  const wide = cifar.roof.layers.filter((l) => cifar.wide.has(l.name));
  const worstWide = wide.reduce((a, l) => (l.ratio > a.ratio ? l : a), wide[0]!);
  out.push({
    name: `every conv layer with >= 16 input channels within 1.15x (worst: ${worstWide.name})`,
    target: '<= 1.15x',
    actual: `${worstWide.ratio.toFixed(2)}x`,
    met: worstWide.ratio <= 1.15,
  });
  const fc1 = fc.roof.layers.find((l) => l.name === 'fc1');
  const nn = DEFAULT_CONFIG.array.rows * DEFAULT_CONFIG.array.cols;
  const u = fc1 && fc1.cycles > 0 ? fc1.macs / (fc1.cycles * nn) : 0;
  out.push({ name: 'CIFAR-10 fc1 utilization at batch 16', target: '>= 50 %', actual: pct(u), met: u >= 0.5 });
  // a quick run's 8x8 CIFAR input is not the network of the goals
  return quick ? out.map((g) => ({ ...g, met: undefined })) : out;
}

export const rooflineSection: Section = {
  name: 'roofline',
  title: 'roofline (issue 12): per layer bounds and achieved cycles, default 16x16 config',
  run(ctx: BenchContext): SectionOutput {
    const cfg = DEFAULT_CONFIG;
    const size = ctx.options.quick ? { inputSize: 8 } : {};
    const path = ctx.options.referenceModel;
    let mnist: Measured | undefined;
    if (existsSync(path)) {
      ctx.log("roofline: the authors' MNIST model, batch 1");
      mnist = measure(compiledWorkload('integernet-mnist-4bit', loadIntegerNetFile(path), cfg, 1, ctx.sampler), 1);
    }
    ctx.log('roofline: CIFAR10NET_INT, batch 1 and 16');
    const cifar = measure(zooWorkload('cifar10', cfg, { ...size, sampler: ctx.sampler }), 1);
    const fc = measure(zooWorkload('cifar10', cfg, { ...size, batch: 16, sampler: ctx.sampler }), 16);
    return {
      tables: [...(mnist ? [table(mnist, cfg)] : []), table(cifar, cfg), table(fc, cfg)],
      goals: goals(mnist, cifar, fc, ctx.options.quick),
      notes: [
        'compute bound = MACs x input nibble passes / (rows x cols); DRAM bound = distinct DRAM bytes on the busier channel (LOAD reads, STORE writes) / dram.busBytes (sim/roofline.ts)',
        "cycles = the simulator's layer span (timing engine), DMA included; the whole network's is T",
        ...(mnist ? [] : [`the authors' model is not at ${path}: its table is left out`]),
      ],
      data: { mnist: mnist?.roof, cifar: cifar.roof, cifarBatch16: fc.roof },
    };
  },
};
