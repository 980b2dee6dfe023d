/**
 * Area model: silicon area per component of a machine, from sourced anchors
 * (sim/area-table.json, overridable) and the ArchConfig alone, at the config's
 * technology node. The component list follows the generated RTL
 * (rtl-gen/units/): the PE array, the five scratchpads as the RAMs the RTL
 * builds (scratchpadRams: INP as R lane RAMs, OUT twice and ACC twice with
 * config gemmBeside, one copy per read port), the requant lanes (bias subtract,
 * shift, two clamp compares, the fused max-pool compare, pipeline registers),
 * the pool lanes, the systolic skew registers, the instruction queues, the two
 * DMA channels and the fetch/dispatch control. Logic outside the PEs is counted
 * in Aladdin primitives (adders, comparators, shifters, flip-flops). Wires,
 * placement density and leakage are left out: this is a comparative estimate,
 * not a floorplan (docs/sweep.md, "Area model").
 */
import { ConfigError, deriveArch, type ArchConfig } from '../arch/index.js';
import { PARAM_LANE_USED_BITS } from '../isa/index.js';
import defaultAreaJson from './area-table.json' with { type: 'json' };
import { readJsonTable } from './json-table.js';

interface Primitive {
  um2: number;
  /** the node the figure was measured at (scaled to the config's node by nodeScaling) */
  nodeNm: number;
  per?: string;
  source?: string;
}

export interface AreaTable {
  description?: string;
  nodeNm: number;
  nodeScaling: Record<string, number>;
  pe: { points: { bits: number; um2: number }[]; per?: string; source?: string };
  sram: {
    portBits: number;
    maxBankBytes: number;
    points: { bytes: number; mm2: number }[];
    per?: string;
    source?: string;
  };
  logic: Record<'add.32b' | 'comparator.32b' | 'shifter.32b' | 'register', Primitive>;
  [k: string]: unknown;
}

export const DEFAULT_AREA_TABLE: AreaTable = defaultAreaJson as unknown as AreaTable;

export const SCRATCHPADS = ['inp', 'wgt', 'acc', 'out', 'param'] as const;
export type Scratchpad = (typeof SCRATCHPADS)[number];

/** The RAMs the RTL builds for one scratchpad: `rams` simple dual-port RAMs of depth x widthBits each. */
export interface ScratchpadRams {
  rams: number;
  depth: number;
  widthBits: number;
}

/**
 * The RAMs of nibble_scratchpads (rtl-gen/units/scratchpads.ts), per
 * scratchpad: INP is R lane RAMs (each array row reads its own address: tap
 * packing); a scratchpad with two readers is two RAMs written together, one
 * per read port: OUT (STORE and POOL) always, ACC (GEMM and REQUANT) with
 * config gemmBeside; WGT is even and odd entries in two RAMs with config fastPreload; PARAM keeps the PARAM_LANE_USED_BITS of each lane; a
 * RAM's depth is 2^address bits. test/sweep/area.test.ts checks this against
 * the generated Verilog's nibble_sdp_ram instances.
 */
export function scratchpadRams(cfg: ArchConfig): Record<Scratchpad, ScratchpadRams> {
  const a = deriveArch(cfg);
  return {
    inp: { rams: a.rows, depth: 2 ** a.inpAddrBits, widthBits: a.activationBits },
    // config fastPreload: even and odd entries in two RAMs of half depth (at least 2 entries each)
    wgt: a.pairPreload
      ? { rams: 2, depth: 2 ** Math.max(1, a.wgtAddrBits - 1), widthBits: 8 * a.wgtEntryBytes }
      : { rams: 1, depth: 2 ** a.wgtAddrBits, widthBits: 8 * a.wgtEntryBytes },
    // a stored config from before the field lacks it: false, one RAM (arch BEFORE_FIELD)
    acc: { rams: cfg.gemmBeside === true ? 2 : 1, depth: 2 ** a.accAddrBits, widthBits: a.cols * a.accBits },
    out: { rams: 2, depth: 2 ** a.outAddrBits, widthBits: 8 * a.outEntryBytes },
    param: { rams: 1, depth: 2 ** a.paramAddrBits, widthBits: a.cols * PARAM_LANE_USED_BITS },
  };
}

/** How one scratchpad's RAMs are built from banks. */
export interface SramBanking extends ScratchpadRams {
  /** bytes of one RAM */
  bytes: number;
  /** banks per RAM */
  banks: number;
  bankBytes: number;
}

export const AREA_COMPONENTS = [
  'pe',
  'sram.inp',
  'sram.wgt',
  'sram.acc',
  'sram.out',
  'sram.param',
  'requant',
  'pool',
  'skew',
  'queues',
  'dma',
  'control',
] as const;
export type AreaComponent = (typeof AREA_COMPONENTS)[number];

export interface AreaReport {
  totalMm2: number;
  /** mm^2 per component, in AREA_COMPONENTS order */
  byComponent: Record<AreaComponent, number>;
  sram: Record<Scratchpad, SramBanking>;
  nodeNm: number;
}

function fail(msg: string, where: string): never {
  throw new ConfigError(msg, where);
}

function positive(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
    fail(`must be a positive number, got ${JSON.stringify(v)}`, where);
  return v;
}

function increasingPoints(v: unknown, x: string, y: string, where: string): void {
  if (!Array.isArray(v) || v.length === 0) fail(`must be a non-empty list of {"${x}", "${y}"}`, where);
  let last = 0;
  v.forEach((p: unknown, i) => {
    const o = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const xv = positive(o[x], `${where}[${i}].${x}`);
    positive(o[y], `${where}[${i}].${y}`);
    if (!(xv > last)) fail(`${x} must be increasing`, `${where}[${i}].${x}`);
    last = xv;
  });
}

/** Validate a parsed area table; throws ConfigError naming the field. */
export function validateAreaTable(t: unknown, where = 'area table'): AreaTable {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) fail('must be a JSON object', where);
  const o = t as Record<string, unknown>;
  positive(o['nodeNm'], `${where}.nodeNm`);
  const sc = o['nodeScaling'];
  if (typeof sc !== 'object' || sc === null)
    fail('must be an object {"45": 1, "28": 0.38, "22": 0.25}', `${where}.nodeScaling`);
  for (const [k, v] of Object.entries(sc as object)) positive(v, `${where}.nodeScaling.${k}`);
  const pe = o['pe'] as Record<string, unknown> | undefined;
  increasingPoints(pe?.['points'], 'bits', 'um2', `${where}.pe.points`);
  const sram = o['sram'] as Record<string, unknown> | undefined;
  positive(sram?.['portBits'], `${where}.sram.portBits`);
  positive(sram?.['maxBankBytes'], `${where}.sram.maxBankBytes`);
  increasingPoints(sram?.['points'], 'bytes', 'mm2', `${where}.sram.points`);
  const logic = o['logic'];
  if (typeof logic !== 'object' || logic === null) fail('must be an object of primitives', `${where}.logic`);
  for (const k of ['add.32b', 'comparator.32b', 'shifter.32b', 'register']) {
    const p = (logic as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
    if (typeof p !== 'object' || p === null)
      fail(`missing primitive '${k}' ({"um2": number, "nodeNm": number})`, `${where}.logic`);
    positive(p['um2'], `${where}.logic.${k}.um2`);
    const node = positive(p['nodeNm'], `${where}.logic.${k}.nodeNm`);
    if ((sc as Record<string, unknown>)[String(node)] === undefined)
      fail(`node ${node} nm has no factor in nodeScaling`, `${where}.logic.${k}.nodeNm`);
  }
  return t as AreaTable;
}

/** Read and validate an area table file (same shape as sim/area-table.json). */
export function loadAreaTable(path: string): AreaTable {
  return readJsonTable(
    path,
    'area table',
    { template: DEFAULT_AREA_TABLE, openMaps: ['nodeScaling'] },
    validateAreaTable,
  );
}

/**
 * y at x on a piecewise line through (x, y) points in log-log space; clamped
 * above the last point, proportional to x below the first (small memories and
 * narrow PEs shrink with their bit count).
 */
export function logLogInterpolate(points: readonly (readonly [number, number])[], x: number): number {
  const first = points[0]!;
  if (x <= first[0]) return (first[1] * x) / first[0];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (x <= b[0]) {
      const f = (Math.log(x) - Math.log(a[0])) / (Math.log(b[0]) - Math.log(a[0]));
      return Math.exp(Math.log(a[1]) + f * (Math.log(b[1]) - Math.log(a[1])));
    }
  }
  const last = points[points.length - 1]!;
  return last[1];
}

function nodeFactor(table: AreaTable, fromNm: number, toNm: number): number {
  const from = table.nodeScaling[String(fromNm)];
  const to = table.nodeScaling[String(toNm)];
  if (to === undefined)
    throw new ConfigError(`has no factor for ${toNm} nm (config.techNodeNm)`, 'area table.nodeScaling');
  if (from === undefined) throw new ConfigError(`has no factor for ${fromNm} nm`, 'area table.nodeScaling');
  return to / from;
}

/**
 * Banks of one RAM: 32-bit-port banks side by side for its width, more if a
 * bank would exceed maxBankBytes. Every RAM of a scratchpad is built alike.
 */
export function sramBanking(table: AreaTable, ram: ScratchpadRams): SramBanking {
  const bytes = (ram.depth * ram.widthBits) / 8;
  const banks = Math.max(Math.ceil(ram.widthBits / table.sram.portBits), Math.ceil(bytes / table.sram.maxBankBytes));
  return { ...ram, bytes, banks, bankBytes: bytes / banks };
}

function sramMm2(table: AreaTable, b: SramBanking): number {
  const pts = table.sram.points.map((p) => [p.bytes, p.mm2] as const);
  return b.rams * b.banks * logLogInterpolate(pts, b.bankBytes);
}

/**
 * Area of a machine at its technology node (config.techNodeNm). Throws
 * ConfigError when the table has no scaling factor for that node.
 */
export function estimateArea(cfg: ArchConfig, opts: { table?: AreaTable } = {}): AreaReport {
  const table = opts.table ?? DEFAULT_AREA_TABLE;
  const a = deriveArch(cfg);
  const node = cfg.techNodeNm;
  const { rows, cols } = a;
  const um2 = (k: keyof AreaTable['logic']) => table.logic[k].um2 * nodeFactor(table, table.logic[k].nodeNm, node);
  const add = (w: number) => (um2('add.32b') * w) / 32;
  const cmp = (w: number) => (um2('comparator.32b') * w) / 32;
  const shifter = (w: number) => (um2('shifter.32b') * w * Math.log2(w)) / (32 * 5);
  const reg = (bits: number) => um2('register') * bits;
  const k45 = nodeFactor(table, table.nodeNm, node);

  const peUm2 =
    k45 *
    logLogInterpolate(
      table.pe.points.map((p) => [p.bits, p.um2] as const),
      Math.max(a.weightBits, a.activationBits),
    );
  const rams = scratchpadRams(cfg);
  const sram = Object.fromEntries(SCRATCHPADS.map((b) => [b, sramBanking(table, rams[b])])) as Record<
    Scratchpad,
    SramBanking
  >;
  // bias subtraction and shift are one bit wider than the accumulator (the RTL's 33-bit lane)
  const lane = a.accBits + 1;
  const requantLane = add(lane) + shifter(lane) + 2 * cmp(lane) + cmp(a.accBits) + reg(cfg.requantStages * lane);
  const poolLane = cmp(a.activationBits) + reg(a.activationBits);
  const skewBits = ((rows * (rows - 1)) / 2) * a.activationBits + ((cols * (cols - 1)) / 2) * a.accBits;
  const queueBits = (cfg.queues.load + cfg.queues.compute + cfg.queues.store) * 128;
  const busBits = cfg.dram.busBytes * 8;
  // per channel: address and stride registers with their adders, a data register; LOAD also assembles one entry
  const dmaChannel = reg(2 * a.dramAddrBits + busBits) + 2 * add(a.dramAddrBits) + add(a.dimBits);
  const widestEntryBits = 8 * Math.max(a.inpEntryBytes, a.wgtEntryBytes, a.paramEntryBytes);
  const dma = 2 * dmaChannel + reg(widestEntryBits);
  // fetch: instruction register, 32-bit PC and its adder, four 16-bit token counters; each unit: its
  // instruction and four loop counters of tile-dimension width
  const control = reg(128 + 32 + 4 * 16) + add(32) + 4 * add(16) + 3 * (reg(128 + 4 * a.dimBits) + 4 * add(a.dimBits));

  const mm2 = 1e-6;
  const byComponent: Record<AreaComponent, number> = {
    pe: rows * cols * peUm2 * mm2,
    'sram.inp': k45 * sramMm2(table, sram.inp),
    'sram.wgt': k45 * sramMm2(table, sram.wgt),
    'sram.acc': k45 * sramMm2(table, sram.acc),
    'sram.out': k45 * sramMm2(table, sram.out),
    'sram.param': k45 * sramMm2(table, sram.param),
    requant: cols * requantLane * mm2,
    pool: cols * poolLane * mm2,
    skew: reg(skewBits) * mm2,
    queues: reg(queueBits) * mm2,
    dma: dma * mm2,
    control: control * mm2,
  };
  const totalMm2 = AREA_COMPONENTS.reduce((s, c) => s + byComponent[c], 0);
  return { totalMm2, byComponent, sram, nodeNm: node };
}
