/**
 * Performance counters (documented for hardware engineers in docs/simulator.md).
 * 'timing' and 'fast' derive them in closed form from the schedule; the cycle
 * engine counts them cycle by cycle and must arrive at the same numbers.
 */
import type { Program } from '../isa/index.js';
import { simOpOf } from './ops/index.js';
import { U_COMPUTE, U_HALT, type PreparedProgram } from './prepare.js';
import type { Schedule } from './schedule.js';

export interface UnitCounters {
  /** cycles doing work (for DMA units: everything but the DRAM latency part) */
  busy: number;
  /** cycles with nothing to do */
  idle: number;
  /** head instruction dispatched, unit free, waiting for a dependency token */
  stallToken: number;
  /** DMA waiting for DRAM: the latency L of every LOAD and STORE */
  stallDram: number;
  /** fetch only: the next instruction's queue is full */
  stallQueueFull: number;
  /** instructions executed by this unit (fetch: dispatched, including HALT) */
  instructions: number;
}

export interface SramCounters {
  reads: number;
  writes: number;
  readBits: number;
  writeBits: number;
}

export interface LayerCounters {
  name: string;
  kind: string;
  firstInstruction: number;
  lastInstruction: number;
  /** first start and last end of the layer's instructions */
  start: number;
  end: number;
  cycles: number;
  macs: number;
  utilization: number;
}

export interface Counters {
  cycles: number;
  fetch: UnitCounters;
  load: UnitCounters;
  compute: UnitCounters;
  store: UnitCounters;
  array: {
    passes: number;
    /** cycles in which a pixel vector entered the array */
    issueCycles: number;
    /** issueCycles * N * N */
    macsIssued: number;
    /** sum of program.layers[].macs */
    usefulMacs: number;
    /** usefulMacs / (cycles * N * N) */
    utilization: number;
    /** issueCycles / cycles */
    issueUtilization: number;
  };
  sram: { inp: SramCounters; wgt: SramCounters; param: SramCounters; acc: SramCounters; out: SramCounters };
  dram: { readBytes: number; writeBytes: number };
  layers: LayerCounters[];
}

function unitCounters(): UnitCounters {
  return { busy: 0, idle: 0, stallToken: 0, stallDram: 0, stallQueueFull: 0, instructions: 0 };
}
function sramCounters(): SramCounters {
  return { reads: 0, writes: 0, readBits: 0, writeBits: 0 };
}

export function emptyCounters(): Counters {
  return {
    cycles: 0,
    fetch: unitCounters(),
    load: unitCounters(),
    compute: unitCounters(),
    store: unitCounters(),
    array: { passes: 0, issueCycles: 0, macsIssued: 0, usefulMacs: 0, utilization: 0, issueUtilization: 0 },
    sram: { inp: sramCounters(), wgt: sramCounters(), param: sramCounters(), acc: sramCounters(), out: sramCounters() },
    dram: { readBytes: 0, writeBytes: 0 },
    layers: [],
  };
}

/** Entry accesses of one instruction, added into `c` (static: they depend only on the fields; its module's `access`). */
export function addAccessCounts(p: PreparedProgram, i: number, c: Counters): void {
  const inst = p.code[i]!;
  simOpOf(inst).access(inst as never, p, c);
}

/** Every instruction's entry accesses summed, per prepared program (static, so computed once per program). */
const accessTotals = new WeakMap<PreparedProgram, Counters>();

function staticAccessCounts(p: PreparedProgram): Counters {
  let t = accessTotals.get(p);
  if (!t) {
    t = emptyCounters();
    for (let i = 0; i < p.count; i++) if (p.unit[i] !== U_HALT) addAccessCounts(p, i, t);
    accessTotals.set(p, t);
  }
  return t;
}

/** Fill the derived fields: bits, MACs, utilizations, per-layer numbers. */
export function finishCounters(
  c: Counters,
  p: PreparedProgram,
  program: Program,
  start: Float64Array,
  end: Float64Array,
): void {
  const a = p.arch;
  const { rows, cols } = a;
  const entryBits = {
    inp: rows * a.activationBits,
    wgt: cols * a.weightBits,
    param: cols * 64,
    acc: cols * a.accBits,
    out: cols * a.activationBits,
  };
  for (const k of Object.keys(entryBits) as (keyof typeof entryBits)[]) {
    c.sram[k].readBits = c.sram[k].reads * entryBits[k];
    c.sram[k].writeBits = c.sram[k].writes * entryBits[k];
  }
  c.array.macsIssued = c.array.issueCycles * rows * cols;
  c.array.usefulMacs = program.layers.reduce((s, l) => s + l.macs, 0);
  const T = c.cycles;
  c.array.utilization = T > 0 ? c.array.usefulMacs / (T * rows * cols) : 0;
  c.array.issueUtilization = T > 0 ? c.array.issueCycles / T : 0;
  c.layers = program.layers.map((l) => {
    let s0 = Infinity;
    let e0 = -Infinity;
    const last = Math.min(l.lastInstruction, p.count - 1);
    for (let i = Math.max(0, l.firstInstruction); i <= last; i++) {
      if (p.unit[i] === U_HALT) continue;
      if (start[i]! < s0) s0 = start[i]!;
      if (end[i]! > e0) e0 = end[i]!;
    }
    const cycles = e0 > s0 ? e0 - s0 : 0;
    return {
      name: l.name,
      kind: l.kind,
      firstInstruction: l.firstInstruction,
      lastInstruction: l.lastInstruction,
      start: Number.isFinite(s0) ? s0 : 0,
      end: Number.isFinite(e0) ? e0 : 0,
      cycles,
      macs: l.macs,
      utilization: cycles > 0 ? l.macs / (cycles * rows * cols) : 0,
    };
  });
}

/** Closed-form counters from the schedule (timing and fast engines). */
export function countersFromSchedule(p: PreparedProgram, program: Program, sch: Schedule): Counters {
  const c = emptyCounters();
  const t = staticAccessCounts(p);
  for (const k of Object.keys(c.sram) as (keyof Counters['sram'])[]) {
    c.sram[k].reads = t.sram[k].reads;
    c.sram[k].writes = t.sram[k].writes;
  }
  c.dram.readBytes = t.dram.readBytes;
  c.dram.writeBytes = t.dram.writeBytes;
  c.array.passes = t.array.passes;
  c.array.issueCycles = t.array.issueCycles;
  const T = sch.cycles;
  c.cycles = T;
  const { dispatch: D, start: S, end: E } = sch;
  const units = [c.load, c.compute, c.store];
  const prevEnd = [0, 0, 0];
  let computeCover = 0; // end of the union of compute [S, E) intervals so far
  for (let i = 0; i < p.count; i++) {
    c.fetch.instructions++;
    const base = i === 0 ? 1 : D[i - 1]! + 1;
    c.fetch.stallQueueFull += D[i]! - base;
    const u = p.unit[i]!;
    if (u === U_HALT) continue;
    const uc = units[u]!;
    uc.instructions++;
    const ready = Math.max(D[i]! + 1, prevEnd[u]!);
    if (S[i]! > ready) uc.stallToken += S[i]! - ready;
    if (u === U_COMPUTE) {
      if (S[i]! >= computeCover) uc.busy += E[i]! - S[i]!;
      else if (E[i]! > computeCover) uc.busy += E[i]! - computeCover;
      if (E[i]! > computeCover) computeCover = E[i]!;
      prevEnd[u] = computeCover;
    } else {
      // a DMA waits for DRAM during its latency (its occupancy's dramWait, or the bus model's; 0 for a NOP)
      const wait = sch.dramWait ? sch.dramWait[i]! : p.dramWait[i]!;
      uc.busy += E[i]! - S[i]! - wait;
      uc.stallDram += wait;
      prevEnd[u] = E[i]!;
    }
  }
  c.fetch.busy = c.fetch.instructions;
  c.fetch.idle = T - c.fetch.busy - c.fetch.stallQueueFull;
  for (const uc of units) uc.idle = T - uc.busy - uc.stallToken - uc.stallDram;
  finishCounters(c, p, program, S, E);
  return c;
}
