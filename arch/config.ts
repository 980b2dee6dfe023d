/**
 * ArchConfig: the one typed description of the machine. The simulator, the ISA
 * field widths, the compiler's tiling limits and the Verilog parameters are all
 * derived from it (see `deriveArch`), in the spirit of VTA's hw_spec header: one
 * place defines every number.
 */
import { BUS_FIELDS, defaultBus, entryTransfers, validateBus, type BusConfig } from './bus.js';
import { contentKey } from './content-key.js';
import { ConfigError } from './errors.js';
import { parseJsonStrict } from './json.js';
import { didYouMean } from './names.js';

export interface ArchConfig {
  /**
   * Systolic array: rows = input lanes per pass (INP entry width, weight tile
   * height), cols = output lanes per pass (WGT, ACC, OUT and PARAM entry width).
   * Both powers of two; rows != cols is allowed (docs/architecture.md section 1).
   */
  array: { rows: number; cols: number };
  bits: {
    /** signed weight width (paper: 4) */
    weight: number;
    /** activation width held in the scratchpads (paper: 4) */
    activation: number;
    /** accumulator width (<= 32) */
    accumulator: number;
  };
  /** Scratchpad depths, in entries (INP: `array.rows` lanes; WGT, ACC, OUT, PARAM: `array.cols` lanes). */
  scratchpad: {
    /** INP: entries of rows x activation bits (one pixel, one input-channel block) */
    inputEntries: number;
    /** WGT: entries of cols x weight bits (one row of a rows x cols weight tile) */
    weightEntries: number;
    /** ACC: entries of cols x accumulator bits */
    accEntries: number;
    /** OUT: entries of cols x activation bits */
    outputEntries: number;
    /** PARAM: entries of cols x PARAM_LANE_BYTES bytes (bias, shift) */
    paramEntries: number;
  };
  dram: {
    /** read and write channels each move this many bytes per cycle */
    busBytes: number;
    /** cycles from a request to its first data beat */
    latency: number;
    /** DRAM size the address fields must cover (bytes, power of two) */
    sizeBytes: number;
  };
  /** instruction queue depths in front of each unit */
  queues: { load: number; compute: number; store: number };
  /** pipeline stages of the requant lane (bias-subtract, shift, clamp registered) */
  requantStages: number;
  /**
   * A GEMM may start beside a running REQUANT (the REQUANT's gemm_beside field,
   * docs/architecture.md 7.3): the RTL builds ACC as two RAMs (a read port each)
   * and holds the GEMM's retire; the compiler sets the field. false: the field
   * must be 0 and the RTL has none of that (the iCE40 boards' machine). A full
   * config stored before the field existed lacks it: false (BEFORE_FIELD).
   */
  gemmBeside: boolean;
  /**
   * The GEMM preloads two weight rows a cycle (WGT built as two RAMs, even and
   * odd entries) for its passes without tap packing, and such a pass issues
   * from the cycle after its preload starts (docs/architecture.md 7.2): a pass
   * of one pixel (a dense layer at batch 1) every R/4 + C/2 + 1/2 cycles
   * instead of R/2 + C/2 + 1/2. false: one row a cycle, the pass issues once
   * its tile is in (the iCE40 boards' machine). Absent in a config stored
   * before the field existed: false (BEFORE_FIELD).
   */
  fastPreload: boolean;
  /**
   * Weight banks per PE: pass j preloads bank j mod weightBanks (docs/architecture.md
   * 7.2). 3: a pass's bank is preloaded again only three passes later, so
   * passes of one pixel no longer wait for the bank hold of the pass two
   * before (with fastPreload: a pass every R/2 + 1/3 cycles instead of 12.5 at
   * 16 x 16); the RTL has a third R x C x bits.weight weight register. Absent
   * in a config stored before the field existed: 2 (BEFORE_FIELD).
   */
  weightBanks: 2 | 3;
  /** clock for reports (MHz); does not change cycle counts */
  clockMHz: number;
  /** technology node for the energy model */
  techNodeNm: 45 | 28 | 22;
  /**
   * Optional: the AXI shell's memory path (arch/bus.ts). Absent: the simulator
   * models the core's own memory interface (dram.latency); present: the shell
   * and a deterministic AXI slave with these limits and latencies.
   */
  bus?: BusConfig;
}

export const DEFAULT_CONFIG: ArchConfig = Object.freeze({
  array: { rows: 16, cols: 16 },
  bits: { weight: 4, activation: 4, accumulator: 32 },
  scratchpad: {
    inputEntries: 2048,
    weightEntries: 2048,
    accEntries: 1024,
    outputEntries: 2048,
    paramEntries: 64,
  },
  dram: { busBytes: 8, latency: 24, sizeBytes: 1 << 28 },
  queues: { load: 8, compute: 8, store: 8 },
  requantStages: 3,
  gemmBeside: true,
  fastPreload: true,
  weightBanks: 3,
  clockMHz: 500,
  techNodeNm: 45,
}) as ArchConfig;

/**
 * Bytes of one PARAM lane (int32 bias, int8 shift, padding; the lane layout is
 * in isa/word.ts). A storage fact, so it lives here where entry sizes derive.
 */
export const PARAM_LANE_BYTES = 8;

/** Numbers every consumer derives from the config; computed in one place. */
export interface DerivedArch {
  /** R: array rows = INP lanes = entries of one weight tile */
  rows: number;
  /** C: array columns = WGT / ACC / OUT / PARAM lanes */
  cols: number;
  /** lanes of a DRAM activation entry, max(R, C): channels are blocked by this many (both powers of two, so a block of either divides it) */
  dramLanes: number;
  /** bytes of one DRAM activation entry (dramLanes x activation bits) */
  dramEntryBytes: number;
  weightBits: number;
  activationBits: number;
  accBits: number;
  inpEntryBytes: number;
  wgtEntryBytes: number;
  accEntryBytes: number;
  outEntryBytes: number;
  paramEntryBytes: number;
  inpAddrBits: number;
  wgtAddrBits: number;
  accAddrBits: number;
  outAddrBits: number;
  paramAddrBits: number;
  /** widest SRAM address field (LOAD/STORE) */
  sramAddrBits: number;
  dramAddrBits: number;
  /** bits of an input-side tile dimension (GEMM in_h/in_w, DMA counts): holds up to the largest buffer depth */
  dimBits: number;
  /** bits of an output-side tile dimension (REQUANT/POOL dims): holds up to max(accEntries, outputEntries) */
  outDimBits: number;
  /** bits of a GEMM output dimension (out_h, out_w): holds up to accEntries, the most a GEMM's ACC tile can have */
  accDimBits: number;
  /** largest tap group of tap packing (GEMM ci_blocks with taps = 1, LOAD replicate): R / 2, so that a pass holds at least two taps */
  maxTapLanes: number;
  /** bits of the LOAD replicate field: holds up to maxTapLanes */
  tapBits: number;
  /** GEMM pipeline depth: cycles from a pixel's INP read to its ACC write (see docs/architecture.md) */
  gemmDepth: number;
  /** config fastPreload: a pass without tap packing preloads two weight rows a cycle and issues from PL + 1 */
  pairPreload: boolean;
  /** weight banks per PE (config weightBanks): pass j uses bank j mod weightBanks */
  weightBanks: number;
  /** cycles from IS + P of a pass until its weight bank may take the next preload: C, or C + R/2 - 1 with pairPreload (docs/architecture.md 7.2) */
  bankHold: number;
  /** cycles from a window's last ACC read to its OUT write in REQUANT */
  requantDepth: number;
  accMin: number;
  accMax: number;
}

export function log2Exact(x: number): number {
  return Math.round(Math.log2(x));
}

export function isPowerOfTwo(x: number): boolean {
  return Number.isInteger(x) && x > 0 && 2 ** Math.round(Math.log2(x)) === x;
}

function bitsFor(maxValue: number): number {
  return Math.max(1, Math.ceil(Math.log2(maxValue + 1)));
}

export function deriveArch(cfg: ArchConfig): DerivedArch {
  const rows = cfg.array.rows;
  const cols = cfg.array.cols;
  const dramLanes = Math.max(rows, cols);
  const sp = cfg.scratchpad;
  const maxDepth = Math.max(sp.inputEntries, sp.weightEntries, sp.accEntries, sp.outputEntries, sp.paramEntries);
  return {
    rows,
    cols,
    dramLanes,
    dramEntryBytes: (dramLanes * cfg.bits.activation) / 8,
    weightBits: cfg.bits.weight,
    activationBits: cfg.bits.activation,
    accBits: cfg.bits.accumulator,
    inpEntryBytes: (rows * cfg.bits.activation) / 8,
    wgtEntryBytes: (cols * cfg.bits.weight) / 8,
    accEntryBytes: (cols * cfg.bits.accumulator) / 8,
    outEntryBytes: (cols * cfg.bits.activation) / 8,
    paramEntryBytes: cols * PARAM_LANE_BYTES,
    inpAddrBits: log2Exact(sp.inputEntries),
    wgtAddrBits: log2Exact(sp.weightEntries),
    accAddrBits: log2Exact(sp.accEntries),
    outAddrBits: log2Exact(sp.outputEntries),
    paramAddrBits: Math.max(1, log2Exact(sp.paramEntries)),
    sramAddrBits: log2Exact(
      Math.max(sp.inputEntries, sp.weightEntries, sp.accEntries, sp.outputEntries, sp.paramEntries),
    ),
    dramAddrBits: log2Exact(cfg.dram.sizeBytes),
    dimBits: bitsFor(maxDepth),
    outDimBits: bitsFor(Math.max(sp.accEntries, sp.outputEntries)),
    accDimBits: bitsFor(sp.accEntries),
    maxTapLanes: Math.floor(rows / 2),
    tapBits: bitsFor(Math.floor(rows / 2)),
    gemmDepth: rows + cols + 2,
    pairPreload: cfg.fastPreload === true,
    weightBanks: cfg.weightBanks ?? 2,
    bankHold: cfg.fastPreload === true ? cols + rows / 2 - 1 : cols,
    requantDepth: cfg.requantStages + 2,
    accMin: -(2 ** (cfg.bits.accumulator - 1)),
    accMax: 2 ** (cfg.bits.accumulator - 1) - 1,
  };
}

type Path = string;

function checkInt(v: unknown, path: Path, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ConfigError(`must be an integer, got ${JSON.stringify(v)}`, `config.${path}`);
  }
  if (v < lo || v > hi) throw new ConfigError(`must be in [${lo}, ${hi}], got ${v}`, `config.${path}`);
  return v;
}

function checkPow2(v: unknown, path: Path, lo: number, hi: number): number {
  const x = checkInt(v, path, lo, hi);
  if (!isPowerOfTwo(x))
    throw new ConfigError(
      `must be a power of two (the hardware indexes it with address bits), got ${x}`,
      `config.${path}`,
    );
  return x;
}

/** clockMHz bounds: 1 kHz to 10 GHz. */
export const MIN_CLOCK_MHZ = 0.001;
export const MAX_CLOCK_MHZ = 10000;

/**
 * Validate a full config. Throws ConfigError naming the field and the reason.
 * Whether the derived ISA fields still fit the 128-bit word is the ISA's
 * question: `isaLayout` (isa/encoding.ts) answers it with a ConfigError too.
 */
export function validateConfig(cfg: ArchConfig): ArchConfig {
  if (typeof cfg !== 'object' || cfg === null) throw new ConfigError('must be an object', 'config');
  for (const group of ['array', 'bits', 'scratchpad', 'dram', 'queues'] as const) {
    const v: unknown = cfg[group];
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError('must be an object', `config.${group}`);
  }
  // Powers of two, so that a channel block of either side divides a DRAM entry of the larger one.
  const rows = checkPow2(cfg.array.rows, 'array.rows', 2, 64);
  const cols = checkPow2(cfg.array.cols, 'array.cols', 2, 64);
  const wb = checkInt(cfg.bits.weight, 'bits.weight', 2, 8);
  const ab = checkInt(cfg.bits.activation, 'bits.activation', 2, 8);
  checkInt(cfg.bits.accumulator, 'bits.accumulator', 16, 32);
  if ((cols * wb) % 8 !== 0)
    throw new ConfigError(
      `array.cols x bits.weight = ${cols * wb} bits is not a whole number of bytes`,
      'config.bits.weight',
    );
  for (const [side, lanes] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if ((lanes * ab) % 8 !== 0)
      throw new ConfigError(
        `array.${side} x bits.activation = ${lanes * ab} bits is not a whole number of bytes`,
        'config.bits.activation',
      );
  }
  const sp = cfg.scratchpad;
  checkPow2(sp.inputEntries, 'scratchpad.inputEntries', 2, 1 << 20);
  const we = checkPow2(sp.weightEntries, 'scratchpad.weightEntries', 2, 1 << 20);
  if (we < rows) {
    throw new ConfigError(
      `${we} entries cannot hold one ${rows}x${cols} weight tile (needs ${rows})`,
      'config.scratchpad.weightEntries',
    );
  }
  checkPow2(sp.accEntries, 'scratchpad.accEntries', 2, 1 << 20);
  checkPow2(sp.outputEntries, 'scratchpad.outputEntries', 2, 1 << 20);
  checkPow2(sp.paramEntries, 'scratchpad.paramEntries', 1, 1 << 16);
  checkPow2(cfg.dram.busBytes, 'dram.busBytes', 1, 256);
  checkInt(cfg.dram.latency, 'dram.latency', 1, 1000);
  checkPow2(cfg.dram.sizeBytes, 'dram.sizeBytes', 1 << 16, 2 ** 32);
  checkInt(cfg.queues.load, 'queues.load', 1, 256);
  checkInt(cfg.queues.compute, 'queues.compute', 1, 256);
  checkInt(cfg.queues.store, 'queues.store', 1, 256);
  checkInt(cfg.requantStages, 'requantStages', 1, 8);
  // absent (a full config stored before the field existed): the machine it describes, without (BEFORE_FIELD)
  if (cfg.gemmBeside !== undefined && typeof cfg.gemmBeside !== 'boolean')
    throw new ConfigError(`must be true or false, got ${JSON.stringify(cfg.gemmBeside)}`, 'config.gemmBeside');
  if (cfg.fastPreload !== undefined && typeof cfg.fastPreload !== 'boolean')
    throw new ConfigError(`must be true or false, got ${JSON.stringify(cfg.fastPreload)}`, 'config.fastPreload');
  if (cfg.weightBanks !== undefined && cfg.weightBanks !== 2 && cfg.weightBanks !== 3)
    throw new ConfigError(`must be 2 or 3, got ${JSON.stringify(cfg.weightBanks)}`, 'config.weightBanks');
  // A lower bound too: 5e-324 MHz would turn every latency into Infinity.
  if (typeof cfg.clockMHz !== 'number' || !(cfg.clockMHz >= MIN_CLOCK_MHZ) || !(cfg.clockMHz <= MAX_CLOCK_MHZ)) {
    throw new ConfigError(
      `must be a number of MHz in [${MIN_CLOCK_MHZ}, ${MAX_CLOCK_MHZ}], got ${JSON.stringify(cfg.clockMHz)}`,
      'config.clockMHz',
    );
  }
  if (![45, 28, 22].includes(cfg.techNodeNm)) {
    throw new ConfigError(`must be 45, 28 or 22, got ${JSON.stringify(cfg.techNodeNm)}`, 'config.techNodeNm');
  }
  if (cfg.bus !== undefined) validateBusOf(cfg);
  return cfg;
}

/** The bus section's own ranges, and what it needs from the rest of the config: a bus width the AXI master can move every entry with. */
function validateBusOf(cfg: ArchConfig): void {
  const bus = cfg.bus!;
  validateBus(bus);
  const a = deriveArch(cfg);
  if (cfg.dram.busBytes > 128)
    throw new ConfigError(
      `${cfg.dram.busBytes} bytes is wider than AXI4's widest data bus (1024 bits): set dram.busBytes to at most 128 (or drop the bus section)`,
      'config.dram.busBytes',
    );
  entryTransfers(cfg.dram.busBytes, {
    inp: a.inpEntryBytes,
    wgt: a.wgtEntryBytes,
    param: a.paramEntryBytes,
    out: a.outEntryBytes,
  });
  if (bus.slave === 'board' && cfg.dram.busBytes !== 1)
    throw new ConfigError(
      `the board slave (bus.slave 'board') moves one flash byte a beat, the bus has ${cfg.dram.busBytes}: set dram.busBytes to 1`,
      'config.dram.busBytes',
    );
  if (bus.stream && cfg.dram.busBytes > 16)
    throw new ConfigError(
      `the streaming refill (bus.stream) assembles 128-bit instruction words from beats of at most 16 bytes, the bus has ${cfg.dram.busBytes}: set dram.busBytes to at most 16`,
      'config.dram.busBytes',
    );
}

const SHAPE: Record<string, Record<string, true> | true> = {
  array: { rows: true, cols: true },
  bits: { weight: true, activation: true, accumulator: true },
  scratchpad: { inputEntries: true, weightEntries: true, accEntries: true, outputEntries: true, paramEntries: true },
  dram: { busBytes: true, latency: true, sizeBytes: true },
  queues: { load: true, compute: true, store: true },
  requantStages: true,
  gemmBeside: true,
  fastPreload: true,
  weightBanks: true,
  clockMHz: true,
  techNodeNm: true,
  bus: Object.fromEntries(BUS_FIELDS.map((k) => [k, true])) as Record<string, true>,
};

/** Sections that may be absent (their defaults depend on the rest of the config). */
const OPTIONAL_SECTIONS = new Set(['bus']);

/**
 * Merge a partial config (e.g. parsed from a user's JSON) over the defaults.
 * Unknown keys are rejected so a typo never silently falls back to a default.
 */
export function resolveConfig(partial: unknown, source = 'config'): ArchConfig {
  if (partial === undefined || partial === null) return validateConfig(structuredClone(DEFAULT_CONFIG));
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    throw new ConfigError('must be a JSON object', source);
  }
  const out = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(partial as Record<string, unknown>)) {
    if (k === '$schema' || k === 'comment') continue;
    const shape = SHAPE[k];
    if (!shape) throw new ConfigError(unknownField(k, Object.keys(SHAPE)), fieldWhere(source, k));
    if (shape === true) {
      out[k] = v;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError('must be an object', fieldWhere(source, k));
    if (OPTIONAL_SECTIONS.has(k) && out[k] === undefined) out[k] = {};
    const sub = out[k] as Record<string, unknown>;
    for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) {
      if (!shape[kk]) throw new ConfigError(unknownField(kk, Object.keys(shape)), fieldWhere(source, `${k}.${kk}`));
      sub[kk] = vv;
    }
  }
  // the bus section's defaults follow dram.latency, wherever it came from
  if (out['bus'] !== undefined) {
    const dram = out['dram'] as { latency: unknown };
    const lat = typeof dram.latency === 'number' ? dram.latency : DEFAULT_CONFIG.dram.latency;
    out['bus'] = { ...defaultBus(lat), ...(out['bus'] as object) };
  }
  try {
    return validateConfig(out as unknown as ArchConfig);
  } catch (e) {
    throw configErrorIn(e, source);
  }
}

/**
 * Checks name fields as `config.X`; for a config read from a file, the same
 * error naming the file (`file: X`). Other errors pass unchanged.
 */
export function configErrorIn(e: unknown, source: string): unknown {
  if (!(e instanceof ConfigError) || source === 'config' || !e.where?.startsWith('config')) return e;
  const field = e.where.slice('config.'.length);
  return new ConfigError(e.message.slice(e.where.length + 2), field ? fieldWhere(source, field) : source);
}

/** Where a config field is: `config.F` for the built-in source, `file: F` for a file. */
function fieldWhere(source: string, field: string): string {
  return source === 'config' ? `config.${field}` : `${source}: ${field}`;
}

function unknownField(name: string, known: readonly string[]): string {
  return `unknown field '${name}'${didYouMean(name, known)} (known: ${known.join(', ')})`;
}

/** Parse a config file's text. */
export function parseConfigJson(text: string, file = 'config'): ArchConfig {
  return resolveConfig(parseJsonStrict(text, file, ConfigError), file);
}

/**
 * Fields at the value that leaves the machine as it was before they existed:
 * left out of the canonical JSON, so that machine keeps its hash (its program
 * files and caches stay valid), and what a full config stored before them
 * (a program file) means without them; any other value is a different machine.
 */
export const BEFORE_FIELD: Readonly<Record<string, unknown>> = {
  gemmBeside: false,
  fastPreload: false,
  weightBanks: 2,
};

/** Canonical JSON: keys in the fixed SHAPE order, so the hash is stable. */
export function canonicalConfigJson(cfg: ArchConfig): string {
  const ordered: Record<string, unknown> = {};
  const src = cfg as unknown as Record<string, unknown>;
  for (const [k, shape] of Object.entries(SHAPE)) {
    if (OPTIONAL_SECTIONS.has(k) && src[k] === undefined) continue;
    if (k in BEFORE_FIELD && (src[k] === BEFORE_FIELD[k] || src[k] === undefined)) continue;
    if (shape === true) ordered[k] = src[k];
    else {
      const sub: Record<string, unknown> = {};
      for (const kk of Object.keys(shape)) sub[kk] = (src[k] as Record<string, unknown>)[kk];
      ordered[k] = sub;
    }
  }
  return JSON.stringify(ordered);
}

/** Stable 16-hex-digit hash of the config (SHA-256 of its canonical JSON, truncated). */
export function configHash(cfg: ArchConfig): string {
  return contentKey(canonicalConfigJson(cfg));
}
