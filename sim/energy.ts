/**
 * Energy model: per-action energies (sim/energy-table.json, overridable) times
 * the action counts the simulator measured. Dynamic energy only (leakage is
 * left out, about 11-14 % in the Bit Fusion data). Everything but DRAM scales
 * with the technology node. A scratchpad the RTL builds as two RAMs written
 * together (OUT; ACC with config gemmBeside: sim/area.ts scratchpadRams) pays
 * each write twice and each read once; PARAM moves the bits its RAM keeps.
 */
import { ConfigError } from '../arch/index.js';
import type { Program } from '../isa/index.js';
import { scratchpadRams, type ScratchpadRams } from './area.js';
import { addAccessCounts, emptyCounters, type Counters } from './counters.js';
import defaultTableJson from './energy-table.json' with { type: 'json' };
import { readJsonTable } from './json-table.js';
import { simOpOf } from './ops/index.js';
import { U_HALT, type PreparedProgram } from './prepare.js';

export interface EnergyTable {
  description?: string;
  nodeNm: number;
  nodeScaling: Record<string, number>;
  actions: Record<
    'mac.int4' | 'mac.int8' | 'requant.shift' | 'requant.mult' | 'compare' | 'reg',
    { pJ: number; per?: string; source?: string }
  >;
  sram: { points: { bytes: number; pJ: number }[]; per?: string; source?: string };
  dram: { default: string; kinds: Record<string, { pJ: number; source?: string }>; per?: string };
  [k: string]: unknown;
}

export const DEFAULT_ENERGY_TABLE: EnergyTable = defaultTableJson as unknown as EnergyTable;

export interface EnergyReport {
  totalPj: number;
  /** mac, requant, pool, sram.inp, sram.wgt, sram.param, sram.acc, sram.out, dram, registers, fetch */
  byComponent: Record<string, number>;
  /** per instruction class (LOAD, STORE, GEMM, REQUANT, POOL, NOP, HALT) */
  byClass: Record<string, number>;
  /** per program layer, index order */
  byLayer: number[];
  /** per useful MAC (program.layers) if known, else per issued MAC (see macBasis) */
  pjPerMac: number;
  /** which MACs pjPerMac and topsPerWatt count: 'issued' for a program without a layer table (e.g. bare assembly) */
  macBasis: 'useful' | 'issued';
  /** 2 ops per useful MAC per joule, in tera (dynamic energy only; independent of the clock) */
  topsPerWatt: number;
  /** average power at config.clockMHz over the program's cycles */
  powerMw: number;
  /** the paper's claim: shift-based requant against a multiplier-based one for the same outputs */
  requant: { outputs: number; shiftPj: number; multiplierPj: number; ratio: number; multiplierTotalPj: number };
  /** per-bit SRAM energy used for each scratchpad (after node scaling) */
  sramPjPerBit: Record<string, number>;
  nodeNm: number;
  dramKind: string;
}

function fail(msg: string, where: string): never {
  throw new ConfigError(msg, where);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    fail(`must be a non-negative number, got ${JSON.stringify(v)}`, where);
  return v;
}

/** Validate a parsed energy table; throws ConfigError naming the field. */
export function validateEnergyTable(t: unknown, where = 'energy table'): EnergyTable {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) fail('must be a JSON object', where);
  const o = t as Record<string, unknown>;
  num(o['nodeNm'], `${where}.nodeNm`);
  const sc = o['nodeScaling'];
  if (typeof sc !== 'object' || sc === null)
    fail('must be an object {"45": 1, "28": 0.51, "22": 0.3}', `${where}.nodeScaling`);
  for (const [k, v] of Object.entries(sc as object)) num(v, `${where}.nodeScaling.${k}`);
  const acts = o['actions'];
  if (typeof acts !== 'object' || acts === null) fail('must be an object of actions', `${where}.actions`);
  for (const k of ['mac.int4', 'mac.int8', 'requant.shift', 'requant.mult', 'compare', 'reg']) {
    const a = (acts as Record<string, unknown>)[k];
    if (typeof a !== 'object' || a === null) fail(`missing action '${k}' ({"pJ": number})`, `${where}.actions`);
    num((a as Record<string, unknown>)['pJ'], `${where}.actions.${k}.pJ`);
  }
  const sram = o['sram'] as Record<string, unknown> | undefined;
  const pts = sram?.['points'];
  if (!Array.isArray(pts) || pts.length === 0)
    fail('must be a non-empty list of {"bytes", "pJ"}', `${where}.sram.points`);
  let last = 0;
  pts.forEach((p: unknown, i) => {
    const pp = p as Record<string, unknown>;
    const b = num(pp?.['bytes'], `${where}.sram.points[${i}].bytes`);
    if (!(num(pp['pJ'], `${where}.sram.points[${i}].pJ`) > 0))
      fail('must be positive', `${where}.sram.points[${i}].pJ`);
    if (!(b > last)) fail('sizes must be positive and increasing', `${where}.sram.points[${i}].bytes`);
    last = b;
  });
  const dram = o['dram'] as Record<string, unknown> | undefined;
  const kinds = dram?.['kinds'];
  if (typeof kinds !== 'object' || kinds === null)
    fail('must be an object {"lpddr4": {"pJ": 8}, ...}', `${where}.dram.kinds`);
  for (const [k, v] of Object.entries(kinds as object))
    num((v as Record<string, unknown>)?.['pJ'], `${where}.dram.kinds.${k}.pJ`);
  const def = dram?.['default'];
  if (typeof def !== 'string' || !(def in (kinds as object))) {
    fail(
      `must name one of ${Object.keys(kinds as object).join(', ')}, got ${JSON.stringify(def)}`,
      `${where}.dram.default`,
    );
  }
  return t as EnergyTable;
}

/** The fields an energy table may have: the default's, plus new nodes and DRAM kinds. */
const ENERGY_TABLE_SHAPE = { template: DEFAULT_ENERGY_TABLE, openMaps: ['nodeScaling', 'dram.kinds'] } as const;

/** Read and validate an energy table file (same shape as sim/energy-table.json). */
export function loadEnergyTable(path: string): EnergyTable {
  return readJsonTable(path, 'energy table', ENERGY_TABLE_SHAPE, validateEnergyTable);
}

/** SRAM energy per bit for a buffer of `bytes`, interpolated in log-log space (clamped at the ends). */
export function sramPjPerBit(table: EnergyTable, bytes: number): number {
  const pts = table.sram.points;
  if (bytes <= pts[0]!.bytes) return pts[0]!.pJ;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (bytes <= b.bytes) {
      const f = (Math.log(bytes) - Math.log(a.bytes)) / (Math.log(b.bytes) - Math.log(a.bytes));
      return Math.exp(Math.log(a.pJ) + f * (Math.log(b.pJ) - Math.log(a.pJ)));
    }
  }
  return pts[pts.length - 1]!.pJ;
}

function nodeScale(table: EnergyTable, nodeNm: number): number {
  const base = table.nodeScaling[String(table.nodeNm)] ?? 1;
  const s = table.nodeScaling[String(nodeNm)];
  if (s === undefined)
    throw new ConfigError(`has no factor for ${nodeNm} nm (config.techNodeNm)`, 'energy table.nodeScaling');
  return s / base;
}

export interface EnergyOptions {
  table?: EnergyTable;
  /** DRAM kind from table.dram.kinds (default: table.dram.default) */
  dram?: string;
}

/**
 * Energy of a run from its counters and the program. Per-instruction action
 * counts are static (they depend only on the fields), so per-class and
 * per-layer splits need no engine support.
 */
export function computeEnergy(
  program: Program,
  p: PreparedProgram,
  counters: Counters,
  opts: EnergyOptions = {},
): EnergyReport {
  const table = opts.table ?? DEFAULT_ENERGY_TABLE;
  const cfg = program.config;
  const dramKind = opts.dram ?? table.dram.default;
  const st = energyStatics(p, table, dramKind);
  const { totalPj, perInst, rqOutputs } = st;
  const byLayer = program.layers.map((l) => {
    let s = 0;
    for (let i = Math.max(0, l.firstInstruction); i <= Math.min(l.lastInstruction, p.count - 1); i++)
      if (p.unit[i] !== U_HALT) s += perInst[i]!;
    return s;
  });
  const macs = counters.array.usefulMacs > 0 ? counters.array.usefulMacs : counters.array.macsIssued;
  const shiftPj = rqOutputs * st.rqPj;
  const multiplierPj = rqOutputs * st.rqMultPj;
  return {
    totalPj,
    byComponent: { ...st.byComponent },
    byClass: { ...st.byClass },
    byLayer,
    pjPerMac: macs > 0 ? totalPj / macs : 0,
    macBasis: counters.array.usefulMacs > 0 ? 'useful' : 'issued',
    topsPerWatt: totalPj > 0 ? (2 * macs) / totalPj : 0,
    powerMw: counters.cycles > 0 ? (totalPj * cfg.clockMHz) / counters.cycles / 1000 : 0,
    requant: {
      outputs: rqOutputs,
      shiftPj,
      multiplierPj,
      ratio: shiftPj > 0 ? multiplierPj / shiftPj : 0,
      multiplierTotalPj: totalPj - shiftPj + multiplierPj,
    },
    sramPjPerBit: { ...st.sramBit },
    nodeNm: cfg.techNodeNm,
    dramKind,
  };
}

/** The run-independent part of an energy report: every instruction's energy (its action counts are static). */
interface EnergyStatics {
  table: EnergyTable;
  dramKind: string;
  totalPj: number;
  byComponent: Record<string, number>;
  byClass: Record<string, number>;
  perInst: Float64Array;
  rqOutputs: number;
  rqPj: number;
  rqMultPj: number;
  sramBit: Record<string, number>;
}

/** The last table and DRAM kind's statics per prepared program (the next simulation of it reuses them). */
const staticsMemo = new WeakMap<PreparedProgram, EnergyStatics>();

function energyStatics(p: PreparedProgram, table: EnergyTable, dramKind: string): EnergyStatics {
  const m = staticsMemo.get(p);
  if (m && m.table === table && m.dramKind === dramKind && table === DEFAULT_ENERGY_TABLE) return m;
  const st = computeStatics(p, table, dramKind);
  staticsMemo.set(p, st);
  return st;
}

function computeStatics(p: PreparedProgram, table: EnergyTable, dramKind: string): EnergyStatics {
  const cfg = p.cfg;
  const a = p.arch;
  const { rows, cols } = a;
  const k = nodeScale(table, cfg.techNodeNm);
  const dk = table.dram.kinds[dramKind];
  if (!dk)
    throw new ConfigError(
      `unknown DRAM kind '${dramKind}' (known: ${Object.keys(table.dram.kinds).join(', ')})`,
      'energy.dram',
    );
  const dramBit = dk.pJ;
  const act = table.actions;
  const bits = Math.max(a.weightBits, a.activationBits);
  // 4x4-bit MAC anchor; wider operands interpolate linearly towards the 8x8 anchor
  const macPj =
    k *
    (bits <= 4
      ? act['mac.int4'].pJ
      : act['mac.int4'].pJ + ((act['mac.int8'].pJ - act['mac.int4'].pJ) * (bits - 4)) / 4);
  const rqPj = k * act['requant.shift'].pJ;
  const rqMultPj = k * act['requant.mult'].pJ;
  const cmpPj = k * act['compare'].pJ;
  const regPj = k * act['reg'].pJ;
  // per bit by the size of one of the RAMs the RTL builds (sim/area.ts scratchpadRams); INP's R lane RAMs at
  // the whole buffer's: a narrow RAM is folded onto a wider row, so an access costs about what the buffer's does
  const rams = scratchpadRams(cfg);
  const ramBit = (r: ScratchpadRams) => k * sramPjPerBit(table, (r.depth * r.widthBits) / 8);
  const sramBit = {
    inp: k * sramPjPerBit(table, cfg.scratchpad.inputEntries * a.inpEntryBytes),
    wgt: ramBit(rams.wgt),
    param: ramBit(rams.param),
    acc: ramBit(rams.acc),
    out: ramBit(rams.out),
  };
  // every copy of a scratchpad is written; a read reads one
  const accCopies = rams.acc.rams;
  const outCopies = rams.out.rams;
  const paramBits = rams.param.widthBits;
  // registers outside the PEs: row skew (activations) and column de-skew (sums) per issued pixel, requant pipeline per output
  const skewBitsPerPixel = ((rows * (rows - 1)) / 2) * a.activationBits + ((cols * (cols - 1)) / 2) * a.accBits;
  const byClass: Record<string, number> = {};
  const perInst = new Float64Array(p.count);
  const c = emptyCounters(); // reused: per-instruction action counts
  const { inp, wgt, param, acc, out } = c.sram;
  const ab = a.activationBits;
  // per component, summed in plain locals (this loop runs once per instruction of every simulation)
  let eInp = 0,
    eWgt = 0,
    eParam = 0,
    eAcc = 0,
    eOut = 0,
    eDram = 0,
    eFetch = 0,
    eMac = 0,
    eReg = 0,
    eRq = 0,
    ePool = 0;
  let rqOutputs = 0;
  const fetchPj = 128 * dramBit; // every instruction word (128 bits) streams in through the instruction port from DRAM
  for (let i = 0; i < p.count; i++) {
    const inst = p.code[i]!;
    inp.reads = inp.writes = wgt.reads = wgt.writes = param.reads = param.writes = 0;
    acc.reads = acc.writes = out.reads = out.writes = 0;
    c.dram.readBytes = c.dram.writeBytes = 0;
    c.array.issueCycles = c.array.passes = 0;
    addAccessCounts(p, i, c);
    const vInp = (inp.reads + inp.writes) * rows * ab * sramBit.inp;
    const vWgt = (wgt.reads + wgt.writes) * cols * a.weightBits * sramBit.wgt;
    const vParam = (param.reads + param.writes) * paramBits * sramBit.param;
    const vAcc = (acc.reads + accCopies * acc.writes) * cols * a.accBits * sramBit.acc;
    const vOut = (out.reads + outCopies * out.writes) * cols * ab * sramBit.out;
    const vDram = (c.dram.readBytes + c.dram.writeBytes) * 8 * dramBit;
    const vMac = c.array.issueCycles * rows * cols * macPj;
    // requant lanes and pooling compares (the module's laneActions); requant pipeline registers per output lane
    const la = simOpOf(inst).laneActions(inst as never, p);
    rqOutputs += la.requantLanes;
    const vRq = la.requantLanes * rqPj;
    const vPool = la.compares * cmpPj;
    let vReg = c.array.issueCycles * skewBitsPerPixel * regPj;
    if (la.pipelineRegisterBits > 0) vReg += la.pipelineRegisterBits * regPj;
    eInp += vInp;
    eWgt += vWgt;
    eParam += vParam;
    eAcc += vAcc;
    eOut += vOut;
    eDram += vDram;
    eFetch += fetchPj;
    eMac += vMac;
    eReg += vReg;
    eRq += vRq;
    ePool += vPool;
    const sum = vInp + vWgt + vParam + vAcc + vOut + vDram + fetchPj + vMac + vReg + vRq + vPool;
    perInst[i] = sum;
    byClass[inst.op] = (byClass[inst.op] ?? 0) + sum;
  }
  const byComponent: Record<string, number> = {
    mac: eMac,
    requant: eRq,
    pool: ePool,
    'sram.inp': eInp,
    'sram.wgt': eWgt,
    'sram.param': eParam,
    'sram.acc': eAcc,
    'sram.out': eOut,
    dram: eDram,
    registers: eReg,
    fetch: eFetch,
  };
  const totalPj = Object.values(byComponent).reduce((x, y) => x + y, 0);
  return { table, dramKind, totalPj, byComponent, byClass, perInst, rqOutputs, rqPj, rqMultPj, sramBit };
}
