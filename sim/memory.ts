/**
 * Machine memories in the form the engines compute on: scratchpad lanes are
 * kept unpacked (one typed-array element per lane) so the inner loops never
 * touch bits; DRAM is bytes, packed exactly as in docs/architecture.md
 * section 1. The DMA converts between the two on every entry it moves.
 */
import type { ArchConfig, DerivedArch } from '../arch/index.js';
import { SimError } from '../arch/index.js';
import { BUF_INP, BUF_WGT, packLanes, packTensorInto, unpackLanes, unpackParamLanes } from '../isa/index.js';
import type { Program, TensorDescriptor } from '../isa/index.js';

/** Final scratchpad contents; INP and OUT hold raw lane bit patterns (unsigned), WGT signed weights. */
export interface Scratchpads {
  /** inputEntries x R raw activation bit patterns */
  inp: Uint8Array;
  /** weightEntries x C signed weights */
  wgt: Int8Array;
  /** paramEntries x C biases */
  bias: Int32Array;
  /** paramEntries x C shifts */
  shift: Int8Array;
  /** accEntries x C accumulators */
  acc: Int32Array;
  /** outputEntries x C raw activation bit patterns */
  out: Uint8Array;
}

/** The machine the memories belong to (a PreparedProgram is one). */
export interface MemoryShape {
  readonly cfg: ArchConfig;
  readonly arch: DerivedArch;
  /** bytes of DRAM the program touches */
  readonly dramBytes: number;
}

export function newScratchpads(p: Pick<MemoryShape, 'cfg' | 'arch'>): Scratchpads {
  const sp = p.cfg.scratchpad;
  const { rows, cols } = p.arch;
  return {
    inp: new Uint8Array(sp.inputEntries * rows),
    wgt: new Int8Array(sp.weightEntries * cols),
    bias: new Int32Array(sp.paramEntries * cols),
    shift: new Int8Array(sp.paramEntries * cols),
    acc: new Int32Array(sp.accEntries * cols),
    out: new Uint8Array(sp.outputEntries * cols),
  };
}

/** Tiny deterministic PRNG (mulberry32) for input fills and random programs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Copies of every scratchpad (plain typed arrays). */
export function copyScratchpads(sp: Scratchpads): Scratchpads {
  return {
    inp: sp.inp.slice(),
    wgt: sp.wgt.slice(),
    bias: sp.bias.slice(),
    shift: sp.shift.slice(),
    acc: sp.acc.slice(),
    out: sp.out.slice(),
  };
}

/** Build the initial DRAM image (in `into`, zeroed, of p.dramBytes, when given): segments, then inputs (given or seeded random). */
export function buildDram(
  program: Program,
  p: MemoryShape,
  inputs: Record<string, Int32Array | Uint8Array> | undefined,
  seed: number,
  into?: Uint8Array,
): { dram: Uint8Array; randomInputs: string[] } {
  const dram = into ?? new Uint8Array(p.dramBytes);
  for (const s of program.segments) dram.set(s.bytes, s.dramAddr);
  const randomInputs: string[] = [];
  const given = inputs ?? {};
  for (const name of Object.keys(given)) {
    if (!program.inputs.some((d) => d.name === name)) {
      throw new SimError(
        `unknown input '${name}' (program inputs: ${program.inputs.map((d) => d.name).join(', ') || 'none'})`,
        'inputs',
      );
    }
  }
  program.inputs.forEach((desc, k) => {
    let data: ArrayLike<number> | undefined = given[desc.name];
    if (!data) {
      data = randomFill(desc, seed + 7919 * (k + 1));
      randomInputs.push(desc.name);
    }
    try {
      packTensorInto(desc, data, p.cfg, dram, desc.dramAddr, p.arch);
    } catch (e) {
      throw new SimError((e as Error).message, `input '${desc.name}'`);
    }
  });
  return { dram, randomInputs };
}

/** The last seeded fill of each input descriptor, for the next simulation of its program (never mutated). */
const randomFills = new WeakMap<TensorDescriptor, { key: string; data: Int32Array }>();

function randomFill(desc: TensorDescriptor, seed: number): Int32Array {
  const key = `${desc.shape.join('x')} ${desc.bits} ${desc.signed} ${seed}`;
  const m = randomFills.get(desc);
  if (m && m.key === key) return m.data;
  const data = randomTensor(desc, seed);
  randomFills.set(desc, { key, data });
  return data;
}

export function randomTensor(desc: TensorDescriptor, seed: number): Int32Array {
  const rnd = mulberry32(seed);
  const [b, c, h, w] = desc.shape;
  const lo = desc.signed ? -(2 ** (desc.bits - 1) - 1) : 0;
  const hi = desc.signed ? 2 ** (desc.bits - 1) - 1 : 2 ** desc.bits - 1;
  const out = new Int32Array(b * c * h * w);
  for (let i = 0; i < out.length; i++) out[i] = lo + Math.floor(rnd() * (hi - lo + 1));
  return out;
}

/**
 * Move `entries` consecutive DRAM entries into LOAD destination buffer entries
 * from `entry` on (the lane codecs of isa/word.ts). Consecutive entries are
 * contiguous lanes, so a whole row converts in one call. `replicate` = g >= 1
 * (INP): lane l of each entry is then lane l mod g of the entry read.
 */
export function loadEntries(
  sp: Scratchpads,
  a: DerivedArch,
  buf: number,
  dram: Uint8Array,
  off: number,
  entry: number,
  entries: number,
  replicate = 0,
): void {
  const n = buf === BUF_INP ? a.rows : a.cols;
  const lanes = entries * n;
  if (buf === BUF_INP) {
    const inp = sp.inp;
    unpackLanes(dram, off, lanes, a.activationBits, false, inp, entry * n);
    if (replicate > 0) {
      for (let e = entry * n, end = e + lanes; e < end; e += n)
        for (let l = replicate; l < n; l++) inp[e + l] = inp[e + (l % replicate)]!;
    }
  } else if (buf === BUF_WGT) unpackLanes(dram, off, lanes, a.weightBits, true, sp.wgt, entry * n);
  else unpackParamLanes(dram, off, lanes, sp.bias, sp.shift, entry * n);
}

/** Write `entries` consecutive OUT entries from `entry` on to DRAM at `off`. */
export function storeEntries(
  sp: Scratchpads,
  a: DerivedArch,
  entry: number,
  entries: number,
  dram: Uint8Array,
  off: number,
): void {
  packLanes(sp.out, entry * a.cols, entries * a.cols, a.activationBits, dram, off);
}

export function overflowError(i: number, lane: number, entry: number, value: number, a: DerivedArch): SimError {
  return new SimError(
    `accumulator overflow: ACC entry ${entry} lane ${lane} would become ${value}, outside the ${a.accBits}-bit range [${a.accMin}, ${a.accMax}]`,
    `instruction ${i}`,
    'NB-S004',
  );
}
