/**
 * Generation parameters of the AXI shell (docs/board.md) and the facts derived
 * from them and the ArchConfig, computed and checked in one place: the
 * generator, the testbench, the C header and the register map all read these.
 */
import {
  ConfigError,
  defaultBus,
  deriveArch,
  entryTransfers as busEntryTransfers,
  isPowerOfTwo,
  programAlignBytes,
  streamBurstWords,
  validateConfig,
  type ArchConfig,
  type BusConfig,
  type EntryTransfer,
  RtlError,
} from '../../arch/index.js';
import { rtlOptions, type RtlOptions } from '../core-facts.js';

export type { EntryTransfer } from '../../arch/index.js';
export { SHELL_READ_OVERHEAD, SHELL_WRITE_OVERHEAD } from '../../arch/index.js';

/**
 * How the shell is generated. Its memory-path limits come from the config's
 * `bus` section when it has one (config.bus: the simulator then models this
 * shell); `insnWords` and `writeBurstBeats` set them only for a config
 * without one.
 */
export interface ShellOptions {
  /** AXI4 address width of m_axi_gmem (Vitis uses 64); default 64 */
  addrBits?: number;
  /** depth of the on-chip instruction buffer in 128-bit words (power of two); default 4096 (config.bus.fetchWords) */
  insnWords?: number;
  /** beats of the write buffer, which is also the longest write burst (power of two, <= 256); default 16 (config.bus.writeBurst) */
  writeBurstBeats?: number;
  /**
   * stream the program while the core runs (docs/board.md, "Streaming instructions"): the instruction memory is a
   * ring refilled over a second, read-only AXI4 master (m_axi_insn) and the core's fetch waits for its word, so a
   * program may be longer than insnWords (up to 2^indexBits - 1 words); default false (config.bus.stream)
   */
  stream?: boolean;
  /** bring the core's trace ports out of the shell top (verification builds); default false */
  trace?: boolean;
  /** the core's bookkeeping widths (index and counter bits) */
  rtl?: RtlOptions;
}

/** Every number the shell's pieces need, derived once. */
export interface ShellParams {
  cfg: ArchConfig;
  addrBits: number;
  insnWords: number;
  insnAddrBits: number;
  /** depth of the narrow-read lane queue: one more than the read bursts in flight, so it never fills */
  readRequests: number;
  writeBurstBeats: number;
  /** the memory path's limits (config.bus, or the defaults for the config's dram.latency) */
  bus: BusConfig;
  /** the config has a bus section: the simulator models this shell and a deterministic slave with these latencies */
  modelled: boolean;
  /** the core has an instruction handshake, so a program longer than the instruction buffer streams through it */
  streaming: boolean;
  /** streaming: words per refill burst (at most 256 beats and 4 KiB; PROGRAM_BASE is aligned to a burst) */
  streamBurstWords: number;
  /** the longest program the shell runs: insnWords, or 2^indexBits - 1 when streaming */
  maxProgramWords: number;
  /** PROGRAM_BASE alignment in bytes */
  programAlign: number;
  trace: boolean;
  indexBits: number;
  counterBits: number;
  busBytes: number;
  busBits: number;
  /** log2 busBytes: AxSIZE of a full-width beat */
  busSize: number;
  /** core DRAM address width (log2 dram.sizeBytes) */
  dramAddrBits: number;
  /** INP, WGT, PARAM (the LOAD buffers, in `buf` order), then OUT */
  entries: EntryTransfer[];
  /** some LOAD entry kind is narrower than the bus: the read side tracks lane offsets per request */
  narrowReads: boolean;
  /** width of a burst splitter's beat counter (a whole LOAD row, or the program) */
  beatCountBits: number;
}

const clog2 = (x: number) => Math.max(1, Math.ceil(Math.log2(x)));

function checkPow2Option(v: number, name: string, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi || !isPowerOfTwo(v))
    throw new RtlError(`${name} must be a power of two in ${lo}..${hi}, got ${v}`, 'shell options');
  return v;
}

/** Bytes of each DMA entry kind and how the AXI master moves it (arch/bus.ts); throws RtlError when the bus width does not divide an entry. */
export function entryTransfers(cfg: ArchConfig): EntryTransfer[] {
  const a = deriveArch(cfg);
  try {
    return busEntryTransfers(cfg.dram.busBytes, {
      inp: a.inpEntryBytes,
      wgt: a.wgtEntryBytes,
      param: a.paramEntryBytes,
      out: a.outEntryBytes,
    });
  } catch (e) {
    if (e instanceof ConfigError) throw new RtlError(e.message.slice((e.where?.length ?? -2) + 2), e.where);
    throw e;
  }
}

/** The memory path's limits: the config's bus section, or (without one) the defaults with the shell options. */
function effectiveBus(cfg: ArchConfig, opts: ShellOptions): BusConfig {
  if (!cfg.bus) {
    const fetchWords = checkPow2Option(opts.insnWords ?? 4096, 'insnWords', 2, 1 << 20);
    const writeBurst = checkPow2Option(opts.writeBurstBeats ?? 16, 'writeBurstBeats', 2, 256);
    return { ...defaultBus(cfg.dram.latency), fetchWords, writeBurst };
  }
  for (const [opt, field] of [
    ['insnWords', 'fetchWords'],
    ['writeBurstBeats', 'writeBurst'],
  ] as const) {
    const v = opts[opt];
    if (v !== undefined && v !== cfg.bus[field])
      throw new RtlError(
        `${opt} ${v} differs from config.bus.${field} ${cfg.bus[field]}: a config with a bus section sets it (the simulator models the shell from the config)`,
        'shell options',
      );
  }
  return cfg.bus;
}

/** Whether the shell streams its program (config.bus.stream, else the option); throws RtlError for a config the streaming buffer does not cover. */
function streamCheck(cfg: ArchConfig, opts: ShellOptions, busBytes: number): boolean {
  if (cfg.bus && opts.stream !== undefined && opts.stream !== (cfg.bus.stream ?? false))
    throw new RtlError(
      `stream ${opts.stream} differs from config.bus.stream ${cfg.bus.stream ?? false}: a config with a bus section sets it (the simulator models the shell from the config)`,
      'shell options',
    );
  const stream = cfg.bus ? (cfg.bus.stream ?? false) : (opts.stream ?? false);
  if (!stream) return false;
  if (busBytes > 16)
    throw new RtlError(
      `stream: the refill assembles 128-bit words from beats of at most 16 bytes, the bus has ${busBytes}: set dram.busBytes to at most 16`,
      'shell options',
    );
  return true;
}

/** Fill in and check the shell options for a config. */
export function shellParams(cfgIn: ArchConfig, opts: ShellOptions = {}): ShellParams {
  const cfg = validateConfig(cfgIn);
  const a = deriveArch(cfg);
  const busBytes = cfg.dram.busBytes;
  if (busBytes > 128)
    throw new RtlError(
      `${busBytes} bytes is wider than AXI4's widest data bus (1024 bits): set dram.busBytes to at most 128`,
      'config.dram.busBytes',
    );
  const entries = entryTransfers(cfg);
  const { indexBits, counterBits } = rtlOptions(cfg, opts.rtl);
  const addrBits = opts.addrBits ?? 64;
  if (!Number.isInteger(addrBits) || addrBits < Math.max(13, a.dramAddrBits) || addrBits > 64)
    throw new RtlError(
      `addrBits must be an integer in ${Math.max(13, a.dramAddrBits)}..64 (at least the core's ${a.dramAddrBits}-bit DRAM address), got ${addrBits}`,
      'shell options',
    );
  const bus = effectiveBus(cfg, opts);
  const insnWords = checkPow2Option(bus.fetchWords, 'insnWords', 2, 2 ** Math.min(20, indexBits));
  const readRequests = Math.max(2, 2 ** Math.ceil(Math.log2(bus.readOutstanding + 1)));
  const writeBurstBeats = bus.writeBurst;
  const maxEntryBeats = Math.max(...entries.slice(0, 3).map((e) => e.beats));
  const programBeats = Math.ceil((insnWords * 16) / busBytes);
  const rowBeats = (2 ** a.dimBits - 1) * maxEntryBeats;
  const streaming = streamCheck(cfg, opts, busBytes);
  if (streaming && addrBits < indexBits + 4)
    throw new RtlError(
      `stream: addrBits ${addrBits} cannot address a program of 2^${indexBits} words: use addrBits >= ${indexBits + 4}`,
      'shell options',
    );
  const burstWords = streamBurstWords(insnWords, busBytes);
  return {
    cfg,
    addrBits,
    insnWords,
    insnAddrBits: clog2(insnWords),
    readRequests,
    writeBurstBeats,
    bus,
    modelled: cfg.bus !== undefined,
    streaming,
    streamBurstWords: burstWords,
    maxProgramWords: streaming ? 2 ** indexBits - 1 : insnWords,
    programAlign: programAlignBytes(streaming, insnWords, busBytes),
    trace: opts.trace ?? false,
    indexBits,
    counterBits,
    busBytes,
    busBits: busBytes * 8,
    busSize: Math.log2(busBytes),
    dramAddrBits: a.dramAddrBits,
    entries,
    narrowReads: entries.slice(0, 3).some((e) => e.narrow),
    beatCountBits: clog2(Math.max(rowBeats, programBeats) + 1),
  };
}
