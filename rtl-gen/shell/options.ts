/**
 * Generation parameters of the AXI shell (docs/board.md) and the facts derived
 * from them and the ArchConfig, computed and checked in one place: the
 * generator, the testbench, the C header and the register map all read these.
 */
import { deriveArch, isPowerOfTwo, validateConfig, type ArchConfig, RtlError } from '../../arch/index.js';
import { rtlOptions, type RtlOptions } from '../core-facts.js';

export interface ShellOptions {
  /** AXI4 address width of m_axi_gmem (Vitis uses 64); default 64 */
  addrBits?: number;
  /** depth of the on-chip instruction memory in 128-bit words (power of two); the program is fetched into it before the core starts; default 4096 */
  insnWords?: number;
  /** core read requests the master keeps in flight when entries are narrower than the bus (power of two); default: the smallest power of two >= dram.latency + 2, at most 64 */
  readRequests?: number;
  /** beats of the write buffer, which is also the longest write burst (power of two, <= 256); default 16 */
  writeBurstBeats?: number;
  /** bring the core's trace ports out of the shell top (verification builds); default false */
  trace?: boolean;
  /** the core's bookkeeping widths (index and counter bits) */
  rtl?: RtlOptions;
}

/** One kind of DMA entry as the master moves it: whole bus beats, or one narrow transfer per entry. */
export interface EntryTransfer {
  kind: 'inp' | 'wgt' | 'param' | 'out';
  bytes: number;
  /** AXI beats per entry */
  beats: number;
  /** log2 of the bytes per beat (AxSIZE) */
  size: number;
  /** true when the entry is narrower than the bus (AxSIZE < log2 busBytes) */
  narrow: boolean;
}

/** Every number the shell's pieces need, derived once. */
export interface ShellParams {
  cfg: ArchConfig;
  addrBits: number;
  insnWords: number;
  insnAddrBits: number;
  readRequests: number;
  writeBurstBeats: number;
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

/**
 * Cycles the shell adds to the core's DRAM latency: a read request accepted by
 * the shell in cycle t reaches the AXI AR channel in cycle t + 2 and its R beats
 * reach the core one cycle after the shell sees them; a STORE's last beat
 * reaches the W channel two cycles after the core sends it and the core sees the
 * write response one cycle after B. Under the deterministic bus model the slave
 * answers `dram.latency` minus these, so the core sees exactly the simulator's
 * memory timing (docs/board.md, "Timing").
 */
export const SHELL_READ_OVERHEAD = 3;
export const SHELL_WRITE_OVERHEAD = 3;

const clog2 = (x: number) => Math.max(1, Math.ceil(Math.log2(x)));

function checkPow2Option(v: number, name: string, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi || !isPowerOfTwo(v))
    throw new RtlError(`${name} must be a power of two in ${lo}..${hi}, got ${v}`, 'shell options');
  return v;
}

/** Bytes of each DMA entry kind and how the AXI master moves it; throws when the bus width does not divide an entry. */
export function entryTransfers(cfg: ArchConfig): EntryTransfer[] {
  const a = deriveArch(cfg);
  const bus = cfg.dram.busBytes;
  const kinds: [EntryTransfer['kind'], string, number][] = [
    ['inp', 'INP', a.inpEntryBytes],
    ['wgt', 'WGT', a.wgtEntryBytes],
    ['param', 'PARAM', a.paramEntryBytes],
    ['out', 'OUT', a.outEntryBytes],
  ];
  return kinds.map(([kind, label, bytes]) => {
    if (bytes >= bus) {
      if (bytes % bus !== 0) {
        const fits = [1, 2, 4, 8, 16, 32, 64, 128].filter((b) => bytes % b === 0 && b <= bytes);
        throw new RtlError(
          `the AXI data bus of ${bus} bytes does not divide the ${bytes}-byte ${label} entry, so its beats would straddle entries: ` +
            `set dram.busBytes to ${fits.join(', ')}`,
          'config.dram.busBytes',
        );
      }
      return { kind, bytes, beats: bytes / bus, size: Math.log2(bus), narrow: false };
    }
    if (!isPowerOfTwo(bytes)) {
      throw new RtlError(
        `the ${bytes}-byte ${label} entry is narrower than the ${bus}-byte AXI data bus and not a power of two, so it cannot be one narrow AXI transfer: ` +
          `set dram.busBytes to at most ${2 ** Math.floor(Math.log2(bytes))} bytes (a divisor of ${bytes})`,
        'config.dram.busBytes',
      );
    }
    return { kind, bytes, beats: 1, size: Math.log2(bytes), narrow: true };
  });
}

/** Fill in and check the shell options for a config. */
export function shellParams(cfgIn: ArchConfig, opts: ShellOptions = {}): ShellParams {
  const cfg = validateConfig(cfgIn);
  const a = deriveArch(cfg);
  const bus = cfg.dram.busBytes;
  if (bus > 128)
    throw new RtlError(
      `${bus} bytes is wider than AXI4's widest data bus (1024 bits): set dram.busBytes to at most 128`,
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
  const insnWords = checkPow2Option(opts.insnWords ?? 4096, 'insnWords', 2, 2 ** Math.min(20, indexBits));
  const defaultRequests = Math.min(64, 2 ** Math.ceil(Math.log2(cfg.dram.latency + 2)));
  const readRequests = checkPow2Option(opts.readRequests ?? defaultRequests, 'readRequests', 2, 256);
  const writeBurstBeats = checkPow2Option(opts.writeBurstBeats ?? 16, 'writeBurstBeats', 2, 256);
  const maxEntryBeats = Math.max(...entries.slice(0, 3).map((e) => e.beats));
  const programBeats = Math.ceil((insnWords * 16) / bus);
  const rowBeats = (2 ** a.dimBits - 1) * maxEntryBeats;
  return {
    cfg,
    addrBits,
    insnWords,
    insnAddrBits: clog2(insnWords),
    readRequests,
    writeBurstBeats,
    trace: opts.trace ?? false,
    indexBits,
    counterBits,
    busBytes: bus,
    busBits: bus * 8,
    busSize: Math.log2(bus),
    dramAddrBits: a.dramAddrBits,
    entries,
    narrowReads: entries.slice(0, 3).some((e) => e.narrow),
    beatCountBits: clog2(Math.max(rowBeats, programBeats) + 1),
  };
}
