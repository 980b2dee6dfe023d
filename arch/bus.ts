/**
 * The AXI shell's memory path as the simulator models it (docs/board.md,
 * "The bus model"): the optional `bus` section of an ArchConfig. Without it
 * the core's own memory interface is modelled (dram.latency, docs/architecture.md
 * sections 5-6); with it the simulator models the shell in front of the core
 * and a deterministic AXI slave behind it, and the shell is generated with
 * these limits:
 *
 *  - the slave: the first R beat of a burst `readLatency` cycles after its AR,
 *    beats back to back; B `writeLatency` cycles after the later of a burst's
 *    AW and last W beat; every READY high;
 *  - the shell: read bursts of at most `readBurst` beats, at most
 *    `readOutstanding` of them in flight; write bursts of at most `writeBurst`
 *    beats (its write buffer), at most `writeOutstanding` awaiting B; an
 *    instruction memory of `fetchWords` words, filled over the same AXI
 *    master before the core starts (a longer program is refused), or, with
 *    `stream`, a ring of `fetchWords` words refilled while the core runs.
 *
 * The beat width is dram.busBytes. How each kind of DMA entry becomes AXI
 * beats is `entryTransfers` (also the shell generator's rule).
 */
import { ConfigError } from './errors.js';

export interface BusConfig {
  /** slave: cycles from an accepted AR to the burst's first R beat */
  readLatency: number;
  /** slave: cycles from the later of a burst's AW and its last W beat to B */
  writeLatency: number;
  /** longest read burst the shell issues (beats, power of two, <= 256) */
  readBurst: number;
  /** longest write burst = the shell's write buffer (beats, power of two, <= 256) */
  writeBurst: number;
  /** read bursts in flight (AR issued, last beat not yet received) at most */
  readOutstanding: number;
  /** write bursts awaiting their B at most */
  writeOutstanding: number;
  /** instruction memory depth (128-bit words, power of two): the longest program the shell runs, or the streaming ring */
  fetchWords: number;
  /**
   * the shell streams the program (docs/board.md, "Streaming instructions"): the instruction memory is a ring of
   * fetchWords words refilled over a second read master while the core runs, in bursts of
   * min(fetchWords / 2, 16 x busBytes) words, one at a time, from a slave with readLatency; default false
   */
  stream?: boolean;
  /**
   * the slave behind the shell: 'deterministic' (default: the latencies above, every READY high) or 'board', the
   * iCE40 boards' own slave (fpga/board-top.ts, BOARD_SLAVE below): one read burst at a time shared by both read
   * masters (m_axi_gmem first), W only after AW, block RAM and an SPI flash behind it; readLatency and writeLatency
   * are then unused. A 'board' run also has its bases and the flash's open read (BusRun).
   */
  slave?: 'deterministic' | 'board';
}

/**
 * The iCE40 boards' AXI slave (fpga/board-top.ts generates it, sim/bus/board-slave.ts models it): the facts both
 * read. Bus addresses below flashWindow read the SPI flash byte at that address, the block RAM sits at bramBase.
 * Reads: a burst is taken when the slave is idle (m_axi_gmem first, m_axi_insn only when gmem's ARVALID is low);
 * from the block RAM its beat j comes bramFirstBeat + j cycles after the AR; from the flash one byte a
 * flashByteCycles() (SPI mode 0, READ 0x03, SCK = clock / flashBitCycles, running on from byte to byte within a
 * burst; the burst's first byte adds a 2-cycle hand-over), and
 * the read stays open (CS low) between bytes and bursts: a burst that does not start at the byte after the last one
 * read first closes it for flashGapCycles and sends a new command of flashCommandBits bits (command and 24-bit
 * address). The slave is free again the cycle after a burst's last beat. Writes: AWREADY while no write burst is
 * open and no B pending; W is taken only after its AW; B the cycle after WLAST; AWREADY again the cycle after B.
 */
export const BOARD_SLAVE = {
  /** AXI address bits of the board design */
  addrBits: 20,
  flashWindow: 0x80000,
  bramBase: 0x80000,
  /** SPI READ command (no dummy cycles) */
  flashReadCommand: 0x03,
  /** clock cycles per SCK period */
  flashBitCycles: 2,
  /** clock cycles from a burst's first byte's last SCK rise to its R beat and the reader's next request (fl_done, then fl_pend) */
  flashHandoverCycles: 2,
  /** command byte and 24-bit address */
  flashCommandBits: 32,
  /** cycles with CS high between an open read and a new command */
  flashGapCycles: 1,
  /** clock cycles after reset for the release from deep power-down (0xAB) and the wait before the first read */
  flashWakeCycles: 4096,
  /** a block-RAM burst's first R beat, cycles after its AR */
  bramFirstBeat: 2,
} as const;

/**
 * Clock cycles per flash byte within a burst (16 on the boards: SCK keeps running from byte to byte); a burst's
 * first byte comes flashByteCycles() + flashHandoverCycles after the reader is asked for it.
 */
export function flashByteCycles(): number {
  return 8 * BOARD_SLAVE.flashBitCycles;
}

/** Extra cycles of a flash burst that does not continue the open read: the command and address, after the gap if a read was open. */
export function flashNewReadCycles(wasOpen: boolean): number {
  return (wasOpen ? BOARD_SLAVE.flashGapCycles : 0) + BOARD_SLAVE.flashCommandBits * BOARD_SLAVE.flashBitCycles;
}

/**
 * A run on the board slave (bus.slave 'board'): where the program and the data lie on the bus, and the flash's
 * open read at the start (the address of the byte after the last one read, carried over from the previous run;
 * null: closed, as after reset). Defaults: what `nibble_run uart` does, the program at bramBase, the data after it
 * on 64 bytes, the flash closed.
 */
export interface BusRun {
  programBase: number;
  dataBase: number;
  flashNext: number | null;
}

/**
 * Words per refill burst of a streaming shell (bus.stream): half its ring of `ringWords`, at most 256 beats of
 * `busBytes` (so a burst never crosses 4 KiB: PROGRAM_BASE is aligned to one).
 */
export function streamBurstWords(ringWords: number, busBytes: number): number {
  return Math.min(ringWords / 2, (256 * busBytes) / 16);
}

/**
 * PROGRAM_BASE's alignment in bytes (the shell refuses a run with ERROR.ALIGN otherwise): a streaming shell's refill
 * burst (streamBurstWords x 16, so no burst crosses its own alignment), else 16 bytes and the bus width.
 */
export function programAlignBytes(streaming: boolean, ringWords: number, busBytes: number): number {
  return streaming ? streamBurstWords(ringWords, busBytes) * 16 : Math.max(16, busBytes);
}

/** Field order (canonical JSON, docs, error messages). */
export const BUS_FIELDS = [
  'readLatency',
  'writeLatency',
  'readBurst',
  'writeBurst',
  'readOutstanding',
  'writeOutstanding',
  'fetchWords',
  'stream',
  'slave',
] as const satisfies readonly (keyof BusConfig)[];

/**
 * Cycles the shell adds to the slave's latency on the core's side: a read
 * request the shell accepts in cycle t reaches AR in t + 2 and an R beat
 * reaches the core one cycle after the shell takes it; a STORE's last beat
 * reaches W two cycles after the core sends it and the core sees the write
 * response one cycle after B.
 */
export const SHELL_READ_OVERHEAD = 3;
export const SHELL_WRITE_OVERHEAD = 3;

/**
 * Defaults of a `bus` section, for a config's dram.latency L: a slave that
 * answers L - 3 cycles after the request (so the core sees L, as without a
 * bus section), limits that do not bind on it, and a 4096-word instruction
 * memory.
 */
export function defaultBus(dramLatency: number): BusConfig {
  const lat = Math.max(1, dramLatency - SHELL_READ_OVERHEAD);
  // a burst per cycle, each in flight for about the latency: this many never binds
  const outstanding = Math.min(256, dramLatency + 8);
  return {
    readLatency: lat,
    writeLatency: Math.max(1, dramLatency - SHELL_WRITE_OVERHEAD),
    readBurst: 256,
    writeBurst: 16,
    readOutstanding: outstanding,
    writeOutstanding: outstanding,
    fetchWords: 4096,
  };
}

const isPow2 = (x: number) => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;

function busInt(bus: BusConfig, k: keyof BusConfig, lo: number, hi: number, pow2 = false): number {
  const v: unknown = bus[k];
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ConfigError(`must be an integer, got ${JSON.stringify(v)}`, `config.bus.${k}`);
  if (v < lo || v > hi) throw new ConfigError(`must be in [${lo}, ${hi}], got ${v}`, `config.bus.${k}`);
  if (pow2 && !isPow2(v)) throw new ConfigError(`must be a power of two, got ${v}`, `config.bus.${k}`);
  return v;
}

/** Throws ConfigError naming the field unless every bus field is in range. */
export function validateBus(bus: BusConfig): void {
  if (typeof bus !== 'object' || bus === null || Array.isArray(bus))
    throw new ConfigError('must be an object', 'config.bus');
  for (const k of Object.keys(bus))
    if (!(BUS_FIELDS as readonly string[]).includes(k))
      throw new ConfigError(`unknown field '${k}' (known: ${BUS_FIELDS.join(', ')})`, 'config.bus');
  busInt(bus, 'readLatency', 1, 1000);
  busInt(bus, 'writeLatency', 1, 1000);
  busInt(bus, 'readBurst', 1, 256, true);
  busInt(bus, 'writeBurst', 2, 256, true);
  busInt(bus, 'readOutstanding', 1, 256);
  busInt(bus, 'writeOutstanding', 1, 256);
  busInt(bus, 'fetchWords', 2, 1 << 20, true);
  if (bus.stream !== undefined && typeof bus.stream !== 'boolean')
    throw new ConfigError(`must be true or false, got ${JSON.stringify(bus.stream)}`, 'config.bus.stream');
  if (bus.slave !== undefined && bus.slave !== 'deterministic' && bus.slave !== 'board')
    throw new ConfigError(`must be 'deterministic' or 'board', got ${JSON.stringify(bus.slave)}`, 'config.bus.slave');
  if (bus.slave === 'board' && !bus.stream)
    throw new ConfigError('the board slave serves a streaming shell: set bus.stream to true', 'config.bus.slave');
}

/** One kind of DMA entry as the AXI master moves it: whole bus beats, or one narrow transfer per entry. */
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

/**
 * How INP, WGT and PARAM entries (LOAD, in `buf` order) and OUT entries
 * (STORE) cross an AXI bus of `busBytes`: an entry of at least the bus width
 * is whole beats (the width must divide it), a narrower one a single narrow
 * transfer (a power of two). Throws ConfigError naming dram.busBytes and the
 * widths that work.
 */
export function entryTransfers(
  busBytes: number,
  bytes: { inp: number; wgt: number; param: number; out: number },
): EntryTransfer[] {
  const kinds = [
    ['inp', 'INP', bytes.inp],
    ['wgt', 'WGT', bytes.wgt],
    ['param', 'PARAM', bytes.param],
    ['out', 'OUT', bytes.out],
  ] as const;
  return kinds.map(([kind, label, b]) => {
    if (b >= busBytes) {
      if (b % busBytes !== 0) {
        const fits = [1, 2, 4, 8, 16, 32, 64, 128].filter((x) => b % x === 0 && x <= b);
        throw new ConfigError(
          `the AXI data bus of ${busBytes} bytes does not divide the ${b}-byte ${label} entry, so its beats would straddle entries: ` +
            `set dram.busBytes to ${fits.join(', ')}`,
          'config.dram.busBytes',
        );
      }
      return { kind, bytes: b, beats: b / busBytes, size: Math.log2(busBytes), narrow: false };
    }
    if (!isPow2(b)) {
      throw new ConfigError(
        `the ${b}-byte ${label} entry is narrower than the ${busBytes}-byte AXI data bus and not a power of two, so it cannot be one narrow AXI transfer: ` +
          `set dram.busBytes to at most ${2 ** Math.floor(Math.log2(b))} bytes (a divisor of ${b})`,
        'config.dram.busBytes',
      );
    }
    return { kind, bytes: b, beats: 1, size: Math.log2(b), narrow: true };
  });
}
