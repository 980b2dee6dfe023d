/** Gather the report's figures from a program and its simulation result. */
import { canonicalConfigJson, configHash, deriveArch } from '../../arch/index.js';
import { type Program, unitOf } from '../../isa/index.js';
import type { SimResult } from '../engines.js';
import { energyOf, perInstructionTimes, utilizationOf } from '../sim-figures.js';
import type { ReportData, ReportLayer, TimeBreakdown } from './model.js';
import type { TimelineLane } from './timeline.js';

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

/** The timeline's lanes: the compute unit's GEMMs and its requant/pool work are shown apart. */
const LANES = ['load', 'compute: GEMM', 'compute: requant, pool', 'store'] as const;
type Lane = (typeof LANES)[number];

function laneOf(program: Program, i: number): Lane | undefined {
  const inst = program.code[i]!;
  const u = unitOf(inst);
  if (u === 'load' || u === 'store') return u;
  if (u !== 'compute' || inst.op === 'NOP') return undefined; // NOPs only pass tokens
  return inst.op === 'GEMM' ? 'compute: GEMM' : 'compute: requant, pool';
}

/**
 * Where the cycles of [from, to) go, from the instructions' [start, end):
 * the array computing, else loading, else storing, else nothing running (DRAM
 * latency, dependency waits, pipeline fill). Also each unit's busy cycles.
 */
function breakdown(
  spans: readonly { start: number; end: number; unit: 'load' | 'compute' | 'store' }[],
  from: number,
  to: number,
): { time: TimeBreakdown; busy: { load: number; compute: number; store: number } } {
  const ev: [number, number, number][] = []; // [cycle, unit index, +1/-1]
  const idx = { load: 0, compute: 1, store: 2 } as const;
  for (const s of spans) {
    const a = Math.max(from, s.start);
    const b = Math.min(to, s.end);
    if (b > a) ev.push([a, idx[s.unit], 1], [b, idx[s.unit], -1]);
  }
  ev.sort((x, y) => x[0] - y[0]);
  const active = [0, 0, 0];
  const busy = [0, 0, 0];
  const time: TimeBreakdown = { computing: 0, loading: 0, storing: 0, waiting: 0 };
  let t = from;
  const advance = (until: number) => {
    const d = until - t;
    if (d <= 0) return;
    for (let u = 0; u < 3; u++) if (active[u]! > 0) busy[u]! += d;
    if (active[1]! > 0) time.computing += d;
    else if (active[0]! > 0) time.loading += d;
    else if (active[2]! > 0) time.storing += d;
    else time.waiting += d;
    t = until;
  };
  for (const [c, u, delta] of ev) {
    advance(c);
    active[u]! += delta;
  }
  advance(to);
  return { time, busy: { load: busy[0]!, compute: busy[1]!, store: busy[2]! } };
}

/** One report row per layer; an assembled program (no layer table) is one row for the whole program. */
function programLayers(program: Program, result: SimResult) {
  if (program.layers.length > 0) return { layers: program.layers, assembled: false };
  const whole = {
    name: 'program',
    kind: 'whole program',
    macs: result.counters.array.macsIssued,
    firstInstruction: 0,
    lastInstruction: program.code.length - 1,
  };
  return { layers: [whole], assembled: true };
}

export function buildReportData(x: ReportInputs): ReportData {
  const { program, result } = x;
  const cfg = program.config;
  const d = deriveArch(cfg);
  const n = cfg.array.rows;
  const times = perInstructionTimes(result);
  const bytes = dramBytesPerInstruction(program);
  const energy = energyOf(result);
  const { layers: source, assembled } = programLayers(program, result);
  const layers: ReportLayer[] = source.map((l, li) => {
    let first = Infinity;
    let last = 0;
    let dram = 0;
    const spans: { start: number; end: number; unit: 'load' | 'compute' | 'store' }[] = [];
    for (let i = l.firstInstruction; i <= l.lastInstruction; i++) {
      first = Math.min(first, times.start[i]!);
      last = Math.max(last, times.end[i]!);
      dram += bytes[i]!;
      const u = unitOf(program.code[i]!);
      if ((u === 'load' || u === 'compute' || u === 'store') && program.code[i]!.op !== 'NOP')
        spans.push({ start: times.start[i]!, end: times.end[i]!, unit: u });
    }
    const lc = assembled ? undefined : result.counters.layers[li];
    if (lc) [first, last] = [lc.start, lc.end];
    if (assembled) [first, last] = [0, result.cycles];
    if (!(last > first)) first = last = 0;
    const cycles = lc?.cycles ?? last - first;
    const b = breakdown(spans, first, Math.max(last, first + cycles));
    const e = assembled ? energy?.totalPj : energy?.byLayer[li];
    const frac = (v: number) => (cycles > 0 ? Math.min(1, v / cycles) : 0);
    return {
      name: l.name,
      kind: l.kind,
      start: first,
      end: first + cycles,
      cycles,
      macs: l.macs,
      utilization: cycles > 0 ? l.macs / (cycles * n * n) : 0,
      dramBytes: dram,
      time: b.time,
      busy: { load: frac(b.busy.load), compute: frac(b.busy.compute), store: frac(b.busy.store) },
      ...(typeof e === 'number' ? { energyPj: e } : {}),
    };
  });
  const lanes: TimelineLane[] = LANES.map((name) => ({ name, spans: [] }));
  program.code.forEach((_inst, i) => {
    const lane = laneOf(program, i);
    if (lane) lanes[LANES.indexOf(lane)]!.spans.push({ start: times.start[i]!, end: times.end[i]! });
  });
  const macs = layers.reduce((s, l) => s + l.macs, 0);
  const sram = result.counters.sram;
  const sramBytes = Object.values(sram).reduce((s, b) => s + (b.readBits + b.writeBits) / 8, 0);
  const notes = [...(x.notes ?? [])];
  if (assembled)
    notes.push(
      'an assembled program has no layer table: the per-layer figures are one row for the whole program, with the MACs the array issued',
    );
  const batch = program.meta['batch'];
  return {
    title: x.title,
    source: x.source,
    generatedBy: `nibble report, ${new Date().toISOString().slice(0, 19)}Z`,
    config: JSON.parse(canonicalConfigJson(cfg)) as Record<string, unknown>,
    configHash: configHash(cfg),
    n,
    clockMHz: cfg.clockMHz,
    dramBytesPerCycle: cfg.dram.busBytes,
    // one port per scratchpad per cycle: INP and WGT read, ACC read and written, OUT written
    sramBytesPerCycle: d.inpEntryBytes + d.wgtEntryBytes + 2 * d.accEntryBytes + d.outEntryBytes,
    totals: {
      cycles: result.cycles,
      macs,
      utilization: assembled ? macs / Math.max(1, result.cycles * n * n) : utilizationOf(result),
      instructions: program.code.length,
      dramBytes: result.counters.dram.readBytes + result.counters.dram.writeBytes,
      sramBytes,
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
