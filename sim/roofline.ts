/**
 * Roofline accounting (docs/performance.md, "Roofline"): per layer and for the
 * whole program, the two lower bounds on its cycles and how close the run came.
 *
 * - compute bound: useful MACs x input nibble passes / (rows x cols). A layer
 *   whose GEMMs multiply the high nibble plane of an 8-bit input (pshift 4 or
 *   nibble_lanes) needs two passes over each MAC on 4-bit multipliers.
 * - DRAM bound: the bytes that must move / dram.busBytes, on the busier of the
 *   two channels (LOAD reads and STORE writes each have their own,
 *   docs/architecture.md section 1). "Must" = every DRAM byte the layer's LOADs
 *   read and its STOREs write, counted once however often the schedule moves it
 *   (re-loads of the same weights are the schedule's cost, not the layer's);
 *   a layer's weight and parameter LOADs count for it even when the compiler
 *   prefetched them during an earlier layer's instruction range.
 * The achieved cycles (the simulator's layer span) over the larger bound is the
 * ratio the goals of issue 12 are stated in.
 */
import { deriveArch, type DerivedArch } from '../arch/index.js';
import { loadEntryBytes, type Instruction, type Program } from '../isa/index.js';
import type { Counters } from './counters.js';

export interface RooflineRow {
  name: string;
  kind: string;
  /** achieved cycles (the layer's span; the whole program's T) */
  cycles: number;
  macs: number;
  /** 2 when the layer multiplies an 8-bit input as two nibble planes, else 1 */
  inputPasses: number;
  /** macs x inputPasses / (rows x cols) */
  computeBound: number;
  /** distinct DRAM bytes read (LOAD) and written (STORE) */
  readBytes: number;
  writeBytes: number;
  /** max(readBytes, writeBytes) / dram.busBytes: the two channels run at once */
  dramBound: number;
  /** the larger bound and which one it is */
  bound: number;
  boundBy: 'compute' | 'dram';
  /** cycles / bound (1 = on the roofline) */
  ratio: number;
}

export interface Roofline {
  layers: RooflineRow[];
  /** the whole program: its T against its MACs and all its DRAM traffic */
  network: RooflineRow;
}

/** Half-open byte ranges [first, end), merged; returns the bytes they cover. */
function coveredBytes(ranges: [number, number][]): number {
  ranges.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let lo = -1;
  let hi = -1;
  for (const [a, b] of ranges) {
    if (a > hi) {
      total += hi - lo;
      lo = a;
      hi = b;
    } else if (b > hi) hi = b;
  }
  return total + (hi - lo);
}

/** The DRAM rows a DMA instruction touches, appended to `reads` or `writes`. */
function dmaRows(inst: Instruction, a: DerivedArch, reads: [number, number][], writes: [number, number][]): void {
  if (inst.op !== 'LOAD' && inst.op !== 'STORE') return;
  const bytes = inst.x_count * (inst.op === 'LOAD' ? loadEntryBytes(a, inst.buf) : a.outEntryBytes);
  const into = inst.op === 'LOAD' ? reads : writes;
  // rows dram_stride apart; a stride below the row length makes them one range
  if (inst.y_count === 1 || inst.dram_stride <= bytes) {
    into.push([inst.dram_addr, inst.dram_addr + (inst.y_count - 1) * inst.dram_stride + bytes]);
    return;
  }
  for (let y = 0; y < inst.y_count; y++) {
    const s = inst.dram_addr + y * inst.dram_stride;
    into.push([s, s + bytes]);
  }
}

function row(
  program: Program,
  a: DerivedArch,
  what: { name: string; kind: string; cycles: number; macs: number },
  dma: readonly number[],
  inputPasses: number,
): RooflineRow {
  const reads: [number, number][] = [];
  const writes: [number, number][] = [];
  for (const i of dma) dmaRows(program.code[i]!, a, reads, writes);
  const readBytes = coveredBytes(reads);
  const writeBytes = coveredBytes(writes);
  const computeBound = (what.macs * inputPasses) / (a.rows * a.cols);
  const dramBound = Math.max(readBytes, writeBytes) / program.config.dram.busBytes;
  const bound = Math.max(computeBound, dramBound);
  return {
    name: what.name,
    kind: what.kind,
    cycles: what.cycles,
    macs: what.macs,
    inputPasses,
    computeBound,
    readBytes,
    writeBytes,
    dramBound,
    bound,
    boundBy: computeBound >= dramBound ? 'compute' : 'dram',
    ratio: bound > 0 ? what.cycles / bound : 0,
  };
}

/**
 * The DMA instructions of each layer: those in its instruction range, except
 * that a LOAD of a `<layer>.weights` or `<layer>.params` segment counts for
 * that layer wherever the schedule put it (the compiler prefetches weights
 * while earlier layers compute; their bytes are still that layer's traffic).
 */
function dmaOfLayers(program: Program, layers: readonly { name: string; first: number; last: number }[]): number[][] {
  const byName = new Map(layers.map((l, k) => [l.name, k]));
  const owners = program.segments.flatMap((sg) => {
    const m = /^(.*)\.(weights|params)$/.exec(sg.name);
    const k = m ? byName.get(m[1]!) : undefined;
    return k === undefined ? [] : [{ lo: sg.dramAddr, hi: sg.dramAddr + sg.bytes.length, k }];
  });
  const out = layers.map((): number[] => []);
  layers.forEach((l, k) => {
    for (let i = Math.max(0, l.first); i <= Math.min(l.last, program.code.length - 1); i++) {
      const inst = program.code[i]!;
      if (inst.op !== 'LOAD' && inst.op !== 'STORE') continue;
      const own = inst.op === 'LOAD' ? owners.find((o) => inst.dram_addr >= o.lo && inst.dram_addr < o.hi) : undefined;
      out[own ? own.k : k]!.push(i);
    }
  });
  return out;
}

/** 2 when a GEMM of instructions [first, last] multiplies a high nibble plane, else 1. */
function inputPassesOf(code: readonly Instruction[], first: number, last: number): number {
  for (let i = Math.max(0, first); i <= Math.min(last, code.length - 1); i++) {
    const g = code[i]!;
    if (g.op === 'GEMM' && (g.pshift === 4 || g.nibble_lanes)) return 2;
  }
  return 1;
}

/** The roofline of a simulated program: per layer of program.layers, and the whole. */
export function rooflineOf(program: Program, counters: Counters): Roofline {
  const a = deriveArch(program.config);
  const dma = dmaOfLayers(
    program,
    counters.layers.map((l) => ({ name: l.name, first: l.firstInstruction, last: l.lastInstruction })),
  );
  const layers = counters.layers.map((l, k) =>
    row(program, a, l, dma[k]!, inputPassesOf(program.code, l.firstInstruction, l.lastInstruction)),
  );
  const all = program.code.flatMap((inst, i) => (inst.op === 'LOAD' || inst.op === 'STORE' ? [i] : []));
  const whole = row(program, a, { name: 'whole program', kind: '', cycles: counters.cycles, macs: 0 }, all, 1);
  // the whole's compute bound adds up the layers' (each with its own input passes)
  const computeBound = layers.reduce((s, l) => s + l.computeBound, 0);
  const bound = Math.max(computeBound, whole.dramBound);
  const network: RooflineRow = {
    ...whole,
    macs: counters.array.usefulMacs,
    inputPasses: Math.max(1, ...layers.map((l) => l.inputPasses)),
    computeBound,
    bound,
    boundBy: computeBound >= whole.dramBound ? 'compute' : 'dram',
    ratio: bound > 0 ? counters.cycles / bound : 0,
  };
  return { layers, network };
}
