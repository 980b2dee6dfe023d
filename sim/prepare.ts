/**
 * Static checks and per-instruction facts shared by all three engines: every
 * address range an instruction can touch is checked once (by its opcode's
 * rules, isa/ops/<op>.ts), before anything runs, so the engines never
 * disagree about which instruction is out of range.
 */
import { isDeepStrictEqual } from 'node:util';
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
  accessEnd,
  checkAccesses,
  besideRole,
  describeRace,
  findRace,
  instructionPlace,
  type Access,
  checkInstruction,
  legalityTest,
  isaLayout,
  opOf,
  stopsFetch,
  tensorImageBytes,
  DEP_FLAG_NAMES,
  TOKEN_CHANNELS,
  UNIT_COMPUTE,
  UNIT_LOAD,
  UNIT_STORE,
  UNITS,
  tokenChannel,
  unitOf,
  type Instruction,
} from '../isa/index.js';
import { snapshotFields, unchangedSince, type FieldSnapshot } from './instruction-memo.js';
import { instructionTiming } from './ops/index.js';
import { occupancyCode } from './timing.js';
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
  /** isa besideRole of each instruction: a GEMM started beside a REQUANT (the race check) */
  beside: Uint8Array;
  /** the timing model's view of each instruction (sim/timing.ts): kind code, cycles, DRAM wait, passes, pixels */
  occupancy: Uint8Array;
  cycles: Float64Array;
  dramWait: Float64Array;
  passes: Float64Array;
  pixels: Float64Array;
  /** bytes of DRAM the program needs (max end of any segment, tensor or DMA range) */
  dramBytes: number;
}

function unitCode(inst: Instruction): number {
  const u = unitOf(inst);
  return u === undefined ? U_HALT : UNITS.indexOf(u);
}

/** Channel code (-1: none) of each dependency flag on each unit: CHANNEL_CODE[unit * 4 + flag]. */
const CHANNEL_CODE = Int8Array.from(
  UNITS.flatMap((u) =>
    DEP_FLAG_NAMES.map((f) => {
      const ch = tokenChannel(u, f);
      return ch ? TOKEN_CHANNELS.indexOf(ch) : -1;
    }),
  ),
);

/** Record instruction i's popped and pushed channels (legal flags only: checked before). */
function setChannels(p: PreparedProgram, i: number, u: number, inst: Instruction): void {
  if (u === U_HALT) return;
  const base = u * 4;
  if (inst.pop_prev) p.pop0[i] = CHANNEL_CODE[base]!;
  if (inst.pop_next) p[p.pop0[i]! < 0 ? 'pop0' : 'pop1'][i] = CHANNEL_CODE[base + 1]!;
  if (inst.push_prev) p.push0[i] = CHANNEL_CODE[base + 2]!;
  if (inst.push_next) p[p.push0[i]! < 0 ? 'push0' : 'push1'][i] = CHANNEL_CODE[base + 3]!;
}

function tensorEnd(desc: TensorDescriptor, cfg: ArchConfig, arch: DerivedArch): number {
  return desc.dramAddr + (desc.shape[0] - 1) * desc.imageStrideBytes + tensorImageBytes(desc, cfg, arch);
}

/** The program's config, checked: valid, encodable (its layout), and the one its hash names. */
function checkedConfig(program: Program): { cfg: ArchConfig; layouts: ReturnType<typeof isaLayout> } {
  const cfg = program.config;
  if (!cfg) throw new SimError('program has no config');
  validateConfig(cfg);
  const layouts = isaLayout(cfg); // ConfigError when the config's fields no longer fit the word
  if (program.configHash && program.configHash !== configHash(cfg)) {
    throw new SimError(
      `program configHash ${program.configHash} does not match its config (${configHash(cfg)})`,
      'program',
      'NB-S005',
    );
  }
  return { cfg, layouts };
}

/** The instructions fetch reaches: up to and including the first HALT. */
function fetchedCode(program: Program): Instruction[] {
  const halt = program.code.findIndex(stopsFetch);
  if (halt < 0)
    throw new SimError(
      'program has no HALT: fetch would run past the code',
      `instruction ${program.code.length}`,
      'NB-S007',
    );
  return program.code.slice(0, halt + 1);
}

/** DRAM bytes the segments and tensors need; each must lie inside the configured DRAM. */
function dataBytes(program: Program, cfg: ArchConfig, arch: DerivedArch): number {
  const dramLimit = cfg.dram.sizeBytes;
  let dramBytes = 0;
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
    const end = tensorEnd(d, cfg, arch);
    if (d.dramAddr < 0 || end > dramLimit)
      throw new SimError(
        `tensor '${d.name}' [${d.dramAddr}, ${end - 1}] is outside the ${dramLimit}-byte DRAM`,
        'program',
      );
    if (end > dramBytes) dramBytes = end;
  }
  return dramBytes;
}

/**
 * Check every instruction (fields, flags, then its module's scratchpad and
 * DRAM ranges, in program order) and precompute what the engines need.
 */
export function prepareProgram(program: Program): PreparedProgram {
  return prepareChecked(program).p;
}

function prepareChecked(program: Program): { p: PreparedProgram; accessBytes: number } {
  const { cfg } = checkedConfig(program);
  const arch = deriveArch(cfg);
  const m = { cfg, arch };
  const code = fetchedCode(program);
  const count = code.length;
  const p: PreparedProgram = {
    cfg,
    arch,
    code,
    count,
    unit: new Uint8Array(count),
    pop0: new Int8Array(count).fill(-1),
    pop1: new Int8Array(count).fill(-1),
    push0: new Int8Array(count).fill(-1),
    push1: new Int8Array(count).fill(-1),
    beside: new Uint8Array(count),
    occupancy: new Uint8Array(count),
    cycles: new Float64Array(count),
    dramWait: new Float64Array(count),
    passes: new Float64Array(count),
    pixels: new Float64Array(count),
    dramBytes: 0,
  };
  let dramBytes = 0;
  const legal = legalityTest(cfg);
  let at = 0;
  const reject = (message: string): never => {
    throw new SimError(message, instructionPlace(program, at), 'NB-S006');
  };
  const accessesOf: (readonly Access[])[] = new Array<readonly Access[]>(count);
  for (let i = 0; i < count; i++) {
    const inst = code[i]!;
    at = i;
    try {
      if (!legal(inst)) checkInstruction(inst, cfg, `instruction ${i}`);
    } catch (e) {
      if (e instanceof NibbleError) throw new SimError(`illegal instruction: ${e.message}`, undefined, 'NB-S006');
      throw e;
    }
    const op = opOf(inst);
    op.checkRanges(inst, m, reject);
    const accesses = op.accesses(inst, m);
    checkAccesses(inst.op, accesses, m, reject);
    accessesOf[i] = accesses;
    for (const a of accesses) if (a.space === 'dram' && accessEnd(a) > dramBytes) dramBytes = accessEnd(a);
    const u = unitCode(inst);
    p.unit[i] = u;
    setChannels(p, i, u, inst);
    const o = instructionTiming(inst, m);
    p.occupancy[i] = occupancyCode(o);
    p.beside[i] = besideRole(inst);
    p.cycles[i] = o.cycles;
    p.dramWait[i] = o.dramWait;
    p.passes[i] = o.passes;
    p.pixels[i] = o.pixels;
  }
  p.dramBytes = Math.max(dramBytes, dataBytes(program, cfg, arch));
  // a program whose result depends on timing: every engine refuses it, naming both instructions
  const race = findRace(p, accessesOf);
  if (race) {
    const { where, message } = describeRace(race, code, (i) => instructionPlace(program, i));
    throw new SimError(message, where, 'NB-S008');
  }
  return { p, accessBytes: dramBytes };
}

/** What a PreparedProgram was computed from: the config's contents and every fetched instruction's fields. */
interface PreparedEntry {
  p: PreparedProgram;
  /** DRAM bytes the instructions' accesses need (the segments' and tensors' are checked again on every use) */
  accessBytes: number;
  config: ArchConfig;
  configCopy: ArchConfig;
  configHash: string | undefined;
  insts: Instruction[];
  fields: FieldSnapshot<Instruction>[];
}

const preparedMemo = new WeakMap<Program, PreparedEntry>();

/**
 * prepareProgram, kept per program object for the next simulation of it (a
 * dataset, a benchmark): the checks and facts depend on the config and the
 * fetched instructions only, so the entry is used while the config has the
 * same contents and every instruction up to HALT is the same object with the
 * same fields (programs are plain data: one edited in place is prepared
 * again). Segments and tensors are checked against DRAM on every call.
 * Callers never mutate the result.
 */
export function preparedProgram(program: Program): PreparedProgram {
  const e = preparedMemo.get(program);
  if (e && unchanged(e, program)) {
    const bytes = Math.max(e.accessBytes, dataBytes(program, e.p.cfg, e.p.arch));
    if (bytes === e.p.dramBytes) return e.p;
  }
  const { p, accessBytes } = prepareChecked(program);
  preparedMemo.set(program, {
    p,
    accessBytes,
    config: program.config,
    configCopy: structuredClone(program.config),
    configHash: program.configHash,
    insts: p.code.slice(),
    fields: p.code.map(snapshotFields),
  });
  return p;
}

function unchanged(e: PreparedEntry, program: Program): boolean {
  if (
    program.config !== e.config ||
    program.configHash !== e.configHash ||
    !isDeepStrictEqual(program.config, e.configCopy)
  )
    return false;
  const code = program.code;
  const insts = e.insts;
  if (code.length < insts.length) return false;
  for (let i = 0; i < insts.length; i++) {
    const inst = code[i]!;
    if (inst !== insts[i] || !unchangedSince(e.fields[i]!, inst)) return false;
  }
  return true;
}
