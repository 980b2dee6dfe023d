/**
 * Static checks and per-instruction facts shared by all three engines: every
 * address range an instruction can touch is checked once, before anything
 * runs, so the engines never disagree about which instruction is out of range.
 */
import {
  configHash,
  deriveArch,
  validateConfig,
  type ArchConfig,
  type DerivedArch,
  NibbleError,
  SimError,
} from '../arch/index.js';
import {
  checkInstruction,
  isaLayout,
  type FieldLayout,
  tensorImageBytes,
  DEP_FLAG_NAMES,
  TOKEN_CHANNELS,
  UNIT_COMPUTE,
  UNIT_LOAD,
  UNIT_STORE,
  UNITS,
  nextUnit,
  prevUnit,
  tokenChannel,
  unitOf,
  type Instruction,
} from '../isa/index.js';
import type { Program, TensorDescriptor } from '../isa/index.js';

/** Unit codes used in typed arrays: the ISA's unit codes (0 load, 1 compute, 2 store), and 3 for HALT. */
export const U_LOAD = UNIT_LOAD;
export const U_COMPUTE = UNIT_COMPUTE;
export const U_STORE = UNIT_STORE;
export const U_HALT = 3;
export const UNIT_NAMES = [...UNITS, 'halt'] as const;

/** Token channel codes: indices into the ISA's TOKEN_CHANNELS. */
export const CHANNEL_NAMES = TOKEN_CHANNELS;

/** What the engines need to know about one instruction, precomputed. */
export interface PreparedProgram {
  cfg: ArchConfig;
  arch: DerivedArch;
  /** instructions up to and including HALT */
  code: Instruction[];
  count: number;
  unit: Uint8Array;
  /** channels popped / pushed: up to 2 each, -1 = none */
  pop0: Int8Array;
  pop1: Int8Array;
  push0: Int8Array;
  push1: Int8Array;
  /** DMA: beats and entries moved; GEMM: passes and pixels per pass; REQUANT/POOL: reads R and outputs */
  beats: Float64Array;
  passes: Float64Array;
  pixels: Float64Array;
  reads: Float64Array;
  /** bytes of DRAM the program needs (max end of any segment, tensor or DMA range) */
  dramBytes: number;
  /** entry width in bytes of each LOAD buffer, indexed by BUF_* */
  loadEntryBytes: [number, number, number];
}

function unitCode(inst: Instruction): number {
  const u = unitOf(inst);
  return u === undefined ? U_HALT : UNITS.indexOf(u);
}

/** The channels an instruction pops and pushes (isa tokenChannel), as channel codes. */
function channelsOf(u: number, inst: Instruction): { pops: number[]; pushes: number[] } {
  const pops: number[] = [];
  const pushes: number[] = [];
  if (u === U_HALT) return { pops, pushes };
  for (const flag of DEP_FLAG_NAMES) {
    const ch = inst[flag] ? tokenChannel(UNITS[u]!, flag) : undefined;
    if (ch) (flag.startsWith('pop') ? pops : pushes).push(TOKEN_CHANNELS.indexOf(ch));
  }
  return { pops, pushes };
}

function rangeError(i: number, inst: Instruction, what: string, first: number, count: number, size: number): SimError {
  return new SimError(
    `${inst.op} ${what} range [${first}, ${first + count - 1}] is outside the ${size}-entry buffer`,
    `instruction ${i}`,
  );
}

function tensorEnd(desc: TensorDescriptor, cfg: ArchConfig): number {
  return desc.dramAddr + (desc.shape[0] - 1) * desc.imageStrideBytes + tensorImageBytes(desc, cfg);
}

/** Pool / window geometry check shared by REQUANT and POOL. */
function checkWindows(
  i: number,
  inst: Instruction & { in_h: number; in_w: number; out_h: number; out_w: number; pool_k: number; pool_s: number },
): void {
  const needH = (inst.out_h - 1) * inst.pool_s + inst.pool_k;
  const needW = (inst.out_w - 1) * inst.pool_s + inst.pool_k;
  if (needH > inst.in_h || needW > inst.in_w) {
    throw new SimError(
      `${inst.op} windows need a ${needH}x${needW} input (out ${inst.out_h}x${inst.out_w}, pool_k ${inst.pool_k}, pool_s ${inst.pool_s}) but the tile is ${inst.in_h}x${inst.in_w}`,
      `instruction ${i}`,
    );
  }
}

/**
 * A quick acceptance test with exactly checkInstruction's conditions
 * (isa/encoding.ts), built once per program: it only answers "certainly
 * legal", so anything it rejects goes through checkInstruction, which names
 * the field and reason. (checkInstruction builds a Set per call, which made
 * validation the biggest per-instruction cost of a fast-engine run.)
 */
/** Generated checkers by source text: a config's checkers are compiled once, not on every run. */
const generatedCheckers = new Map<string, (rec: Record<string, unknown>) => boolean>();

function legalityFilter(cfg: ArchConfig): (inst: Instruction) => boolean {
  let layouts: ReturnType<typeof isaLayout>;
  try {
    layouts = isaLayout(cfg);
  } catch {
    return () => false;
  }
  // one generated checker per opcode: its property reads see a single object shape, so they stay fast
  const byOp = new Map<string, (rec: Record<string, unknown>) => boolean>();
  for (const [op, l] of layouts) {
    const names = ['op', ...DEP_FLAG_NAMES, ...l.fields.map((f: FieldLayout) => f.name)];
    if (!names.every((k) => /^[a-z_][a-z0-9_]*$/.test(k))) return () => false;
    const lines = [
      // every enumerable key (own ones included, which is what checkInstruction looks at) must be a known one
      `for (var k in r) { switch (k) { ${names.map((k) => `case '${k}':`).join(' ')} break; default: return false; } }`,
      ...DEP_FLAG_NAMES.map((k) => `if (r.${k} !== 0 && r.${k} !== 1) return false;`),
      ...l.fields.map(
        (f: FieldLayout) =>
          `v = r.${f.name}; if (typeof v !== 'number' || !Number.isInteger(v) || v < ${f.min} || v > ${f.max}) return false;`,
      ),
    ];
    const src = `return function (r) { var v; ${lines.join(' ')} return true; };`;
    let fn = generatedCheckers.get(src);
    if (!fn) {
      if (generatedCheckers.size > 256) generatedCheckers.clear();
      fn = new Function(src)() as (rec: Record<string, unknown>) => boolean;
      generatedCheckers.set(src, fn);
    }
    byOp.set(op, fn);
  }
  return (inst) => {
    const check = byOp.get(inst.op);
    if (!check || !check(inst as unknown as Record<string, unknown>)) return false;
    if (inst.op === 'HALT') return !(inst.pop_prev || inst.pop_next || inst.push_prev || inst.push_next);
    const u = unitOf(inst);
    if (!u) return false;
    if ((inst.pop_prev || inst.push_prev) && !prevUnit(u)) return false;
    if ((inst.pop_next || inst.push_next) && !nextUnit(u)) return false;
    return true;
  };
}

export function prepareProgram(program: Program): PreparedProgram {
  const cfg = program.config;
  if (!cfg) throw new SimError('program has no config');
  validateConfig(cfg);
  isaLayout(cfg); // ConfigError when the config's fields no longer fit the word
  if (program.configHash && program.configHash !== configHash(cfg)) {
    throw new SimError(
      `program configHash ${program.configHash} does not match its config (${configHash(cfg)})`,
      'program',
    );
  }
  const arch = deriveArch(cfg);
  const n = arch.n;
  const sp = cfg.scratchpad;
  let halt = -1;
  for (let i = 0; i < program.code.length; i++) {
    if (program.code[i]!.op === 'HALT') {
      halt = i;
      break;
    }
  }
  if (halt < 0)
    throw new SimError('program has no HALT: fetch would run past the code', `instruction ${program.code.length}`);
  const code = program.code.slice(0, halt + 1);
  const count = code.length;
  const unit = new Uint8Array(count);
  const pop0 = new Int8Array(count).fill(-1);
  const pop1 = new Int8Array(count).fill(-1);
  const push0 = new Int8Array(count).fill(-1);
  const push1 = new Int8Array(count).fill(-1);
  const beats = new Float64Array(count);
  const passes = new Float64Array(count);
  const pixels = new Float64Array(count);
  const reads = new Float64Array(count);
  const loadEntryBytes: [number, number, number] = [arch.inpEntryBytes, arch.wgtEntryBytes, arch.paramEntryBytes];
  const loadEntries = [sp.inputEntries, sp.weightEntries, sp.paramEntries];
  const bus = cfg.dram.busBytes;
  let dramBytes = 0;
  const dramLimit = cfg.dram.sizeBytes;
  const dmaRange = (
    i: number,
    inst: Instruction & { dram_addr: number; dram_stride: number; x_count: number; y_count: number },
    eb: number,
  ) => {
    const end = inst.dram_addr + (inst.y_count - 1) * inst.dram_stride + inst.x_count * eb;
    if (end > dramLimit) {
      throw new SimError(
        `${inst.op} DRAM range [${inst.dram_addr}, ${end - 1}] (${inst.y_count} rows of ${inst.x_count} x ${eb} bytes, stride ${inst.dram_stride}) is outside the ${dramLimit}-byte DRAM`,
        `instruction ${i}`,
      );
    }
    if (end > dramBytes) dramBytes = end;
  };
  const legal = legalityFilter(cfg);
  for (let i = 0; i < count; i++) {
    const inst = code[i]!;
    try {
      if (!legal(inst)) checkInstruction(inst, cfg, `instruction ${i}`);
    } catch (e) {
      if (e instanceof NibbleError) throw new SimError(`illegal instruction: ${e.message}`);
      throw e;
    }
    const u = unitCode(inst);
    unit[i] = u;
    const { pops, pushes } = channelsOf(u, inst);
    if (pops[0] !== undefined) pop0[i] = pops[0];
    if (pops[1] !== undefined) pop1[i] = pops[1];
    if (pushes[0] !== undefined) push0[i] = pushes[0];
    if (pushes[1] !== undefined) push1[i] = pushes[1];
    switch (inst.op) {
      case 'LOAD': {
        const entries = inst.x_count * inst.y_count;
        if (inst.sram_addr + entries > loadEntries[inst.buf]!) {
          throw rangeError(
            i,
            inst,
            `${['INP', 'WGT', 'PARAM'][inst.buf]} write`,
            inst.sram_addr,
            entries,
            loadEntries[inst.buf]!,
          );
        }
        const eb = loadEntryBytes[inst.buf]!;
        dmaRange(i, inst, eb);
        beats[i] = entries * Math.ceil(eb / bus);
        reads[i] = entries;
        break;
      }
      case 'STORE': {
        const entries = inst.x_count * inst.y_count;
        if (inst.sram_addr + entries > sp.outputEntries)
          throw rangeError(i, inst, 'OUT read', inst.sram_addr, entries, sp.outputEntries);
        dmaRange(i, inst, arch.outEntryBytes);
        beats[i] = entries * Math.ceil(arch.outEntryBytes / bus);
        reads[i] = entries;
        break;
      }
      case 'GEMM': {
        const inpCount = inst.ci_blocks * inst.in_h * inst.in_w;
        if (inst.inp_addr + inpCount > sp.inputEntries)
          throw rangeError(i, inst, 'INP read', inst.inp_addr, inpCount, sp.inputEntries);
        const p = inst.ci_blocks * inst.kernel_h * inst.kernel_w;
        if (inst.wgt_addr + p * n > sp.weightEntries)
          throw rangeError(i, inst, 'WGT read', inst.wgt_addr, p * n, sp.weightEntries);
        const px = inst.out_h * inst.out_w;
        if (inst.acc_addr + px > sp.accEntries) throw rangeError(i, inst, 'ACC', inst.acc_addr, px, sp.accEntries);
        passes[i] = p;
        pixels[i] = px;
        break;
      }
      case 'REQUANT': {
        checkWindows(i, inst);
        const inCount = inst.in_h * inst.in_w;
        if (inst.acc_addr + inCount > sp.accEntries)
          throw rangeError(i, inst, 'ACC read', inst.acc_addr, inCount, sp.accEntries);
        const outCount = inst.out_h * inst.out_w;
        if (inst.out_addr + outCount > sp.outputEntries)
          throw rangeError(i, inst, 'OUT write', inst.out_addr, outCount, sp.outputEntries);
        if (inst.param_addr >= sp.paramEntries)
          throw rangeError(i, inst, 'PARAM read', inst.param_addr, 1, sp.paramEntries);
        reads[i] = outCount * inst.pool_k * inst.pool_k;
        pixels[i] = outCount;
        break;
      }
      case 'POOL': {
        checkWindows(i, inst);
        const inCount = inst.in_h * inst.in_w;
        if (inst.src_addr + inCount > sp.outputEntries)
          throw rangeError(i, inst, 'OUT read', inst.src_addr, inCount, sp.outputEntries);
        const outCount = inst.out_h * inst.out_w;
        if (inst.dst_addr + outCount > sp.outputEntries)
          throw rangeError(i, inst, 'OUT write', inst.dst_addr, outCount, sp.outputEntries);
        if (inst.src_addr < inst.dst_addr + outCount && inst.dst_addr < inst.src_addr + inCount) {
          throw new SimError(
            `POOL source [${inst.src_addr}, ${inst.src_addr + inCount - 1}] and destination [${inst.dst_addr}, ${inst.dst_addr + outCount - 1}] overlap`,
            `instruction ${i}`,
          );
        }
        reads[i] = outCount * inst.pool_k * inst.pool_k;
        pixels[i] = outCount;
        break;
      }
      default:
        break;
    }
  }
  for (const s of program.segments) {
    const end = s.dramAddr + s.bytes.length;
    if (s.dramAddr < 0 || end > dramLimit)
      throw new SimError(
        `segment '${s.name}' [${s.dramAddr}, ${end - 1}] is outside the ${dramLimit}-byte DRAM`,
        'program',
      );
    if (end > dramBytes) dramBytes = end;
  }
  for (const d of [...program.inputs, ...program.outputs]) {
    const end = tensorEnd(d, cfg);
    if (d.dramAddr < 0 || end > dramLimit)
      throw new SimError(
        `tensor '${d.name}' [${d.dramAddr}, ${end - 1}] is outside the ${dramLimit}-byte DRAM`,
        'program',
      );
    if (end > dramBytes) dramBytes = end;
  }
  return {
    cfg,
    arch,
    code,
    count,
    unit,
    pop0,
    pop1,
    push0,
    push1,
    beats,
    passes,
    pixels,
    reads,
    dramBytes,
    loadEntryBytes,
  };
}
