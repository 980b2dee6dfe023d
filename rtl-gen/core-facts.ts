/**
 * Every number the generated core uses, derived once from the config, the
 * derived architecture and the ISA table (in the spirit of VTA's hw_spec and
 * Gemmini's generated header). Each is a named constant with its derivation;
 * a module declares the ones it uses. The generator files never write a width:
 * they take it from here or from an instruction field (IsaView).
 */
import { deriveArch, validateConfig, RtlError, type ArchConfig, type DerivedArch } from '../arch/index.js';
import type { Mnemonic, OpLayout } from '../isa/index.js';
import { BitFields } from './emit/fields.js';
import { Constants } from './emit/module.js';
import { bitsFor, indexBits, type Dim } from './emit/width.js';
import { IsaView, TARGETS } from './isa-view.js';

/** Generation parameters that do not change the machine's behaviour, only how wide its bookkeeping is. */
export interface RtlOptions {
  /** width of instruction indices (insn_addr, the trace ports, the indices carried through the queues); default 16: programs of at most 2^16 words */
  indexBits?: number;
  /** width of the performance counters (perf_macs has log2(rows x cols) more bits); default 32, 48 for rows >= 16 */
  counterBits?: number;
  /** an `insn_gnt` input on the instruction port: a word is taken only when granted, so an instruction memory may make fetch wait (the AXI shell's streaming buffer); default false: every read is granted */
  insnHandshake?: boolean;
}

/** The options with defaults filled in and checked. */
/** RtlOptions with the widths filled in; insnHandshake only when asked for (the default core has none). */
export type ResolvedRtlOptions = Required<Omit<RtlOptions, 'insnHandshake'>> & Pick<RtlOptions, 'insnHandshake'>;

export function rtlOptions(cfg: ArchConfig, opts: RtlOptions = {}): ResolvedRtlOptions {
  const indexBits = opts.indexBits ?? 16;
  const counterBits = opts.counterBits ?? (cfg.array.rows >= 16 ? 48 : 32);
  if (!Number.isInteger(indexBits) || indexBits < 4 || indexBits > 32)
    throw new RtlError(`indexBits must be an integer in 4..32, got ${indexBits}`, 'rtl options');
  const macShift = Math.log2(cfg.array.rows * cfg.array.cols);
  const maxCounter = 64 - macShift; // perf_macs = counterBits + log2(R C) bits must fit 64
  if (!Number.isInteger(counterBits) || counterBits < 8 || counterBits > maxCounter) {
    throw new RtlError(
      `counterBits must be an integer in 8..${maxCounter} for a ${cfg.array.rows} x ${cfg.array.cols} array, got ${counterBits}`,
      'rtl options',
    );
  }
  return { indexBits, counterBits, ...(opts.insnHandshake ? { insnHandshake: true } : {}) };
}

/** Overrides for tests and studies: a derived architecture or an instruction layout other than the config's. */
export interface FactSources {
  arch?: DerivedArch;
  layouts?: ReadonlyMap<Mnemonic, OpLayout>;
}

/** Requant lane pipeline stage plan: which operations each register stage computes. */
export function requantStagePlan(stages: number): string[][] {
  if (stages === 1) return [['sub', 'shift', 'clamp']];
  if (stages === 2) return [['sub'], ['shift', 'clamp']];
  if (stages === 3) return [['sub'], ['shift'], ['clamp']];
  const plan = [['sub'], ['shiftHi'], ['shiftLo'], ['clamp']];
  for (let i = 4; i < stages; i++) plan.push([]);
  return plan;
}

/**
 * Bits of the issue engine's signed input coordinates iy = y*stride_h + kh - pad_top
 * (and ix likewise): every value a pixel can use, the kernel and pad offsets it
 * starts from, and one more than DIMB so a tile dimension compares as positive.
 */
function inputCoordinateBits(isa: IsaView, dimBits: number): number {
  const max = (f: string) => isa.field('GEMM', f).max;
  const most = Math.max(
    ...(['h', 'w'] as const).map((a) => {
      // the GEMM's output dimensions sit in ODIMB-wide registers (REQUANT's width)
      const out = isa.field('REQUANT', `out_${a}`).max;
      const stride = max(`stride_${a}`);
      const kernel = max(`kernel_${a}`);
      return (out - 1) * stride + kernel - 1;
    }),
  );
  const padMost = Math.max(max('pad_top'), max('pad_left'));
  const fieldBits = Math.max(...['kernel_h', 'kernel_w', 'pad_top', 'pad_left'].map((f) => isa.width('GEMM', f)));
  return 1 + Math.max(dimBits, bitsFor(most), bitsFor(padMost), fieldBits);
}

export type CoreFacts = ReturnType<typeof coreFacts>;

/** The extra product shift of a nibble_lanes GEMM's high-nibble rows (isa/ops/gemm.ts rowNibbleShift). */
export const NIBBLE_SHIFT = 4;

/** The named constants of the core and the layouts built on them. */
export function coreFacts(cfgIn: ArchConfig, optsIn: RtlOptions = {}, sources: FactSources = {}) {
  const cfg = validateConfig(cfgIn);
  const opts = rtlOptions(cfg, optsIn);
  const a = sources.arch ?? deriveArch(cfg);
  const isa = new IsaView(a, sources.layouts);
  const c = new Constants();
  const w = (op: Mnemonic, field: string) => isa.width(op, field);
  const rows = a.rows;
  const cols = a.cols;
  // nibble_lanes needs an even tap group of at most R/2 lanes: R >= 4
  const nibbleLanes = a.maxTapLanes >= 2;
  const bus = cfg.dram.busBytes;
  const bpe = (bytes: number) => Math.ceil(bytes / bus);
  const lane = isa.paramLane;
  const dimb = w('LOAD', 'x_count');
  const odimb = w('REQUANT', 'out_h');
  const bias = lane.bias.width;
  // the clamp bounds REQUANT can ask for, as signed numbers (isa/word.ts requantClampRange)
  const bounds = isa.clampBounds();
  const clampW = 1 + Math.max(bitsFor(bounds.hi), bitsFor(-bounds.lo - 1));
  const diffW = Math.max(a.accBits, bias) + 1;
  const keep = Math.max(lane.bias.lsb + bias, lane.shift.lsb + lane.shift.width);
  const d = {
    R: c.define('R', rows, 'array rows: INP lanes, weight rows per tile (config.array.rows)'),
    C: c.define('C', cols, 'array columns: WGT, ACC, PARAM and OUT lanes (config.array.cols)'),
    LR: c.define('LR', Math.log2(rows), 'log2 R'),
    LC: c.define('LC', Math.log2(cols), 'log2 C'),
    AB: c.define('AB', a.activationBits, 'activation bits (config.bits.activation)'),
    WB: c.define('WB', a.weightBits, 'weight bits (config.bits.weight)'),
    ACCB: c.define('ACCB', a.accBits, 'accumulator bits (config.bits.accumulator)'),
    CW: c.define(
      'CW',
      a.activationBits + 1 + a.weightBits + Math.log2(rows) + (nibbleLanes ? NIBBLE_SHIFT : 0),
      nibbleLanes
        ? 'exact column sum: (AB+1) x WB products, shifted 4 on nibble lanes, summed over R rows'
        : 'exact column sum: (AB+1) x WB products summed over R rows',
    ),
    G: c.define('G', a.gemmDepth, 'GEMM pipeline depth: INP read to ACC write (R+C+2)'),
    WBANKS: c.define(
      'WBANKS',
      a.weightBanks,
      a.weightBanks === 2
        ? 'weight banks per PE: pass j preloads bank j mod 2 while pass j-1 computes'
        : 'weight banks per PE (config weightBanks): pass j preloads bank j mod 3 while passes j-1 and j-2 compute',
    ),
    BUSW: c.define('BUSW', bus * 8, 'DRAM bus bits (8 x config.dram.busBytes)'),
    BUSB: c.define('BUSB', bus, 'DRAM bus bytes'),
    INP_AW: c.define('INP_AW', a.inpAddrBits, 'INP address bits (log2 inputEntries)'),
    WGT_AW: c.define('WGT_AW', a.wgtAddrBits, 'WGT address bits (log2 weightEntries)'),
    ACC_AW: c.define('ACC_AW', a.accAddrBits, 'ACC address bits (log2 accEntries)'),
    OUT_AW: c.define('OUT_AW', a.outAddrBits, 'OUT address bits (log2 outputEntries)'),
    PAR_AW: c.define('PAR_AW', a.paramAddrBits, 'PARAM address bits'),
    SRAM_AW: c.define('SRAM_AW', w('LOAD', 'sram_addr'), 'LOAD.sram_addr bits: the widest of INP, WGT, PARAM'),
    INP_W: c.define('INP_W', a.inpEntryBytes * 8, 'INP entry: R activations (R lane RAMs)'),
    WGT_W: c.define('WGT_W', a.wgtEntryBytes * 8, 'WGT entry: C weights'),
    ACC_W: c.define('ACC_W', cols * a.accBits, 'ACC entry: C accumulators'),
    OUT_W: c.define('OUT_W', a.outEntryBytes * 8, 'OUT entry: C activations'),
    PLANE_W: c.define('PLANE_W', lane.bytes * 8, 'bits of one PARAM lane in DRAM'),
    BIAS_W: c.define('BIAS_W', bias, 'PARAM lane bias bits (isa/word.ts)'),
    SHIFT_W: c.define('SHIFT_W', lane.shift.width, 'PARAM lane shift bits (isa/word.ts)'),
    BIAS_LSB: c.define('BIAS_LSB', lane.bias.lsb, 'PARAM lane bias position (isa/word.ts)'),
    SHIFT_LSB: c.define('SHIFT_LSB', lane.shift.lsb, 'PARAM lane shift position (isa/word.ts)'),
    PKEEP_W: c.define('PKEEP_W', keep, 'low bits of a PARAM lane the RAM keeps: bias and shift, not the padding'),
    PAR_W: c.define('PAR_W', cols * keep, 'PARAM RAM entry: C lanes of PKEEP_W bits'),
    DIMB: c.define('DIMB', dimb, 'input-side tile dimension bits (DMA counts, GEMM in_h/in_w)'),
    ODIMB: c.define('ODIMB', odimb, 'output-side tile dimension bits (REQUANT/POOL in_w, out_h, out_w)'),
    GODIMB: c.define('GODIMB', w('GEMM', 'out_h'), 'GEMM out_h/out_w bits: a GEMM output tile fits ACC'),
    GA: c.define('GA', odimb + w('REQUANT', 'pool_s'), 'window address: ODIMB-bit width times a pool_s stride'),
    IW: c.define('IW', inputCoordinateBits(isa, dimb), 'signed input coordinate y*stride + k - pad (and > DIMB)'),
    BPE_INP: c.define('BPE_INP', bpe(a.inpEntryBytes), 'bus beats per INP entry'),
    BPE_WGT: c.define('BPE_WGT', bpe(a.wgtEntryBytes), 'bus beats per WGT entry'),
    BPE_PAR: c.define('BPE_PAR', bpe(a.paramEntryBytes), 'bus beats per PARAM entry'),
    BPE_MAX: c.define(
      'BPE_MAX',
      Math.max(bpe(a.inpEntryBytes), bpe(a.wgtEntryBytes), bpe(a.paramEntryBytes)),
      'most beats of a LOAD entry',
    ),
    BPE_OUT: c.define('BPE_OUT', bpe(a.outEntryBytes), 'bus beats per OUT entry'),
    IX: c.define('IX', opts.indexBits, 'instruction index bits (rtl indexBits)'),
    DAW: c.define('DAW', w('LOAD', 'dram_addr'), 'DRAM byte address bits (log2 dram.sizeBytes)'),
    INSN_W: c.define('INSN_W', isa.wordBits, 'instruction word bits (isa/word.ts)'),
    QW: c.define('QW', isa.wordBits + opts.indexBits, 'queue entry: the word and its instruction index'),
    PC: c.define('PC', opts.counterBits, 'performance counter bits (rtl counterBits)'),
    MACW: c.define('MACW', opts.counterBits + Math.log2(rows * cols), 'perf_macs bits: PC + LR + LC'),
    REPW: c.define('REPW', w('LOAD', 'replicate'), 'LOAD.replicate bits: tap groups up to R/2 lanes'),
    TOKW: c.define('TOKW', bitsFor(isa.tokenMax), 'token counter bits (isa/word.ts TOKEN_COUNTER_MAX)'),
    EBW: c.define('EBW', 16, 'rd_req_entry_bytes bits (port contract, docs/rtl.md)'),
    TGT_W: c.define('TGT_W', indexBits(TARGETS.length), `dispatch target code: ${TARGETS.join(', ')}`),
    OPC_W: c.define('OPC_W', isa.opcode.width, 'opcode bits (isa/word.ts)'),
    DIFF_W: c.define('DIFF_W', diffW, 'requant m - bias, exact: max(ACCB, BIAS_W) + 1'),
    RS_W: c.define('RS_W', bitsFor(diffW - 1), 'requant right-shift amount (capped at DIFF_W-1)'),
    CLAMP_W: c.define('CLAMP_W', clampW, `requant clamp bounds (signed): [${bounds.lo}, ${bounds.hi}] at most`),
    LS_W: c.define('LS_W', bitsFor(clampW - 1), 'requant left-shift amount (capped at CLAMP_W-1)'),
  } satisfies Record<string, Dim>;
  /** queue entry: the instruction index above the word */
  const entry = BitFields.concat([
    ['idx', d.IX],
    ['word', d.INSN_W],
  ]);
  return {
    cfg,
    arch: a,
    opts,
    isa,
    c,
    d,
    entry,
    /** the machine can run nibble_lanes GEMMs: odd array rows shift their products NIBBLE_SHIFT bits */
    nibbleLanes,
    requantPlan: requantStagePlan(cfg.requantStages),
  };
}
