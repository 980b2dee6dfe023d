/** Gather the report's figures from a program and its simulation result. */
import { canonicalConfigJson, configHash, deriveArch } from '../../arch/index.js';
import { type Program, unitOf } from '../../isa/index.js';
import type { SimResult } from '../engines.js';
import { energyOf, perInstructionTimes, utilizationOf } from '../sim-figures.js';
import type { ReportData, ReportLayer } from './html.js';
import type { TimelineLane } from './charts.js';

/** DRAM bytes each instruction moves (LOAD reads, STORE writes), from the instruction fields alone. */
export function dramBytesPerInstruction(program: Program): Float64Array {
  const d = deriveArch(program.config);
  const out = new Float64Array(program.code.length);
  program.code.forEach((inst, i) => {
    if (inst.op === 'LOAD') {
      const entry = inst.buf === 0 ? d.inpEntryBytes : inst.buf === 1 ? d.wgtEntryBytes : d.paramEntryBytes;
      out[i] = inst.x_count * inst.y_count * entry;
    } else if (inst.op === 'STORE') {
      out[i] = inst.x_count * inst.y_count * d.outEntryBytes;
    }
  });
  return out;
}

export interface ReportInputs {
  title: string;
  source: string;
  program: Program;
  result: SimResult;
  resources?: Record<string, unknown>;
  notes?: string[];
}

export function buildReportData(x: ReportInputs): ReportData {
  const { program, result } = x;
  const cfg = program.config;
  const peak = cfg.array.rows * cfg.array.cols;
  const times = perInstructionTimes(result);
  const bytes = dramBytesPerInstruction(program);
  const energy = energyOf(result);
  const layerEnergy = energy?.byLayer;
  const simLayers = result.counters.layers;
  const layers: ReportLayer[] = program.layers.map((l, li) => {
    let first = Infinity;
    let last = 0;
    let dram = 0;
    for (let i = l.firstInstruction; i <= l.lastInstruction; i++) {
      first = Math.min(first, times.start[i]!);
      last = Math.max(last, times.end[i]!);
      dram += bytes[i]!;
    }
    const sim = simLayers?.[li];
    const cycles = sim ? sim.cycles : last > first ? last - first : 0;
    const e = layerEnergy?.[li];
    return {
      name: l.name,
      kind: l.kind,
      cycles,
      macs: l.macs,
      utilization: cycles > 0 ? l.macs / (cycles * peak) : 0,
      dramBytes: dram,
      ...(typeof e === 'number' ? { energyPj: e } : {}),
    };
  });
  const lanes: TimelineLane[] = (['load', 'compute', 'store'] as const).map((u) => ({ name: u, spans: [] }));
  program.code.forEach((inst, i) => {
    const u = unitOf(inst);
    if (!u) return;
    lanes.find((l) => l.name === u)!.spans.push({ start: times.start[i]!, end: times.end[i]!, op: inst.op, index: i });
  });
  const macs = program.layers.reduce((s, l) => s + l.macs, 0);
  const notes = [...(x.notes ?? [])];
  const batch = program.meta['batch'];
  return {
    title: x.title,
    source: x.source,
    generatedBy: `nibble report, ${new Date().toISOString().slice(0, 19)}Z`,
    config: JSON.parse(canonicalConfigJson(cfg)) as Record<string, unknown>,
    configHash: configHash(cfg),
    rows: cfg.array.rows,
    cols: cfg.array.cols,
    clockMHz: cfg.clockMHz,
    dramBytesPerCycle: cfg.dram.busBytes,
    totals: {
      cycles: result.cycles,
      macs,
      utilization: utilizationOf(result),
      instructions: program.code.length,
      ...(typeof batch === 'number' ? { batch } : {}),
      ...(energy ? { energyPj: energy.totalPj } : {}),
    },
    layers,
    ...(energy ? { energyByComponent: energy.byComponent } : {}),
    ...(energy
      ? { requantComparison: { shiftPj: energy.requant.shiftPj, multiplierPj: energy.requant.multiplierPj } }
      : {}),
    lanes,
    units: (['fetch', 'load', 'compute', 'store'] as const).map((u) => ({ unit: u, ...result.counters[u] })),
    ...(x.resources ? { resources: x.resources } : {}),
    notes,
  };
}
