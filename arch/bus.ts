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
}

/**
 * Words per refill burst of a streaming shell (bus.stream): half its ring of `ringWords`, at most 256 beats of
 * `busBytes` (so a burst never crosses 4 KiB: PROGRAM_BASE is aligned to one).
 */
export function streamBurstWords(ringWords: number, busBytes: number): number {
  return Math.min(ringWords / 2, (256 * busBytes) / 16);
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
