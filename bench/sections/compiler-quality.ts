/**
 * Compiler quality (issue #5): per layer of CIFAR10NET_INT on the default
 * 16x16 config, how close the compiled schedule comes to keeping the array
 * busy. Layer cycles are the simulator's per-layer spans, DMA included.
 */
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/index.js';
import type { Program } from '../../isa/index.js';
import type { Layer, Network } from '../../models/index.js';
import { simulate, type LayerCounters } from '../../sim/index.js';
import { pct, type Goal, type Table } from '../report.js';
import type { BenchContext, Section, SectionOutput } from '../section.js';
import { zooWorkload } from '../workloads.js';

export interface LayerQuality {
  name: string;
  kind: string;
  inChannels: number | undefined;
  outChannels: number | undefined;
  macs: number;
  cycles: number;
  /** MACs / (cycles * N * N) */
  utilization: number;
  /** MACs / (N * N) */
  idealCycles: number;
  /** cycles / idealCycles */
  ratio: number;
  /** a conv layer with >= N input and output channels: the goals apply */
  judged: boolean;
}

function findLayer(layers: readonly Layer[], name: string): Layer | undefined {
  for (const l of layers) {
    if (l.name === name) return l;
    if (l.kind === 'residual') {
      const inner = findLayer([...l.main, l.shortcut], name);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Per-layer quality figures from the simulator's layer counters. */
export function layerQuality(
  net: Network,
  layers: readonly LayerCounters[],
  cfg: ArchConfig,
  minChannels = 16,
): LayerQuality[] {
  const nn = cfg.array.rows * cfg.array.cols;
  return layers.map((l) => {
    const ir = findLayer(net.layers, l.name);
    const inC = ir?.kind === 'conv2d' ? ir.inChannels : ir?.kind === 'dense' ? ir.inFeatures : undefined;
    const outC = ir?.kind === 'conv2d' ? ir.outChannels : ir?.kind === 'dense' ? ir.outFeatures : undefined;
    const ideal = l.macs / nn;
    return {
      name: l.name,
      kind: l.kind,
      inChannels: inC,
      outChannels: outC,
      macs: l.macs,
      cycles: l.cycles,
      utilization: l.cycles > 0 ? l.macs / (l.cycles * nn) : 0,
      idealCycles: ideal,
      ratio: ideal > 0 ? l.cycles / ideal : Infinity,
      judged: l.kind === 'conv2d' && (inC ?? 0) >= minChannels && (outC ?? 0) >= minChannels,
    };
  });
}

export function qualityGoals(rows: readonly LayerQuality[], minUtil = 0.85, maxRatio = 1.15): Goal[] {
  const judged = rows.filter((r) => r.judged);
  const goals: Goal[] = judged.map((r) => ({
    name: `${r.name} utilization`,
    target: `>= ${pct(minUtil, 0)}`,
    actual: pct(r.utilization),
    met: r.utilization >= minUtil,
  }));
  const cycles = judged.reduce((s, r) => s + r.cycles, 0);
  const ideal = judged.reduce((s, r) => s + r.idealCycles, 0);
  const ratio = ideal > 0 ? cycles / ideal : NaN;
  goals.push({
    name: `cycles of those ${judged.length} layers / ideal`,
    target: `<= ${maxRatio.toFixed(2)}x`,
    actual: `${ratio.toFixed(3)}x`,
    met: judged.length > 0 ? ratio <= maxRatio : undefined,
  });
  return goals;
}

export function qualityTable(
  rows: readonly LayerQuality[],
  program: Program,
  totalCycles: number,
  cfg: ArchConfig,
): Table {
  const nn = cfg.array.rows * cfg.array.cols;
  const macs = rows.reduce((s, r) => s + r.macs, 0);
  const ch = (x: number | undefined) => (x === undefined ? '-' : String(x));
  return {
    title: `per layer: ${String(program.meta['model'] ?? '')} on ${cfg.array.rows}x${cfg.array.cols} (goal rows marked *)`,
    columns: ['layer', 'kind', 'in', 'out', 'MACs', 'cycles', 'ideal cycles', 'cycles/ideal', 'utilization'],
    rows: [
      ...rows.map((r) => [
        `${r.name}${r.judged ? ' *' : ''}`,
        r.kind,
        ch(r.inChannels),
        ch(r.outChannels),
        r.macs,
        r.cycles,
        Math.round(r.idealCycles),
        `${r.ratio.toFixed(3)}x`,
        pct(r.utilization),
      ]),
      [
        'whole program',
        '',
        '',
        '',
        macs,
        totalCycles,
        Math.round(macs / nn),
        `${(totalCycles / (macs / nn)).toFixed(3)}x`,
        pct(macs / (totalCycles * nn)),
      ],
    ],
  };
}

export const compilerQualitySection: Section = {
  name: 'compiler',
  title: 'compiler quality (issue #5): CIFAR10NET_INT per layer, default 16x16 config',
  run(ctx: BenchContext): SectionOutput {
    const cfg = DEFAULT_CONFIG;
    ctx.log('compiler: compiling cifar10');
    const w = zooWorkload('cifar10', cfg, { ...(ctx.options.quick ? { inputSize: 8 } : {}), sampler: ctx.sampler });
    const r = simulate(w.program, { engine: 'timing' });
    const rows = layerQuality(w.net, r.counters.layers, cfg);
    // the goals are about the 32x32 network: a quick run's 8x8 input is not judged
    const goals = qualityGoals(rows).map((g) => (ctx.options.quick ? { ...g, met: undefined } : g));
    return {
      tables: [qualityTable(rows, w.program, r.cycles, cfg)],
      goals,
      notes: [
        "cycles per layer = the simulator's layer span (first start to last end of the layer's instructions: its loads, GEMMs, requant/pool and stores), so DMA is included",
        `* = conv layer with >= 16 input and output channels, the layers the goals apply to; compile time ${w.compileMs.toFixed(0)} ms`,
      ],
      data: { network: w.label, cycles: r.cycles, layers: rows },
    };
  },
};
