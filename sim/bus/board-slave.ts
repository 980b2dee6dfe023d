/**
 * The iCE40 boards' own AXI slave (bus.slave 'board'; fpga/board-top.ts is the hardware, arch/bus.ts BOARD_SLAVE
 * its facts), register by register as the read path, the write path and the instruction ring see it:
 *  - reads: one burst at a time over both read masters: ARREADY of m_axi_gmem is "idle", m_axi_insn's "idle and
 *    gmem's ARVALID low"; a block-RAM burst's beat j comes bramFirstBeat + j cycles after its AR, a flash burst's
 *    first byte flashByteCycles() + flashHandoverCycles after the AR's next cycle (after a new READ command when it
 *    does not continue the open read), then one every flashByteCycles(); the slave
 *    is idle again the cycle after the burst's last beat;
 *  - writes: AWREADY while no burst is open and no B is pending, WREADY from the cycle after AW until WLAST, B the
 *    cycle after WLAST.
 * Each cycle: begin(t) (what the registers show), then the masters hand over their AR and W events (acceptRead,
 * endWrite).
 */
import {
  BOARD_SLAVE,
  flashByteCycles,
  flashNewReadCycles,
  programAlignBytes,
  SimError,
  type ArchConfig,
  type BusRun,
} from '../../arch/index.js';

/** Read masters of the board slave. */
export const GMEM = 0;
export const INSN = 1;

const ADDR_MASK = 2 ** BOARD_SLAVE.addrBits - 1;
const REGION_BIT = 2 ** (BOARD_SLAVE.addrBits - 1);

export class BoardSlave {
  /** this cycle: m_axi_gmem's and m_axi_insn's ARREADY */
  arReadyGmem = false;
  arReadyInsn = false;
  /** this cycle: the master an R beat goes to (-1: none), and whether it is its burst's last */
  beatTo = -1;
  beatLast = false;
  /** this cycle: AWREADY, WREADY, BVALID */
  awReady = false;
  wReady = false;
  bValid = false;
  /** the open flash read: the byte after the last one read, or null (closed) */
  flashNext: number | null;
  /** flash bytes read and READ commands sent */
  flashBytes = 0;
  flashCommands = 0;

  private freeAt = -Infinity;
  private src = -1;
  private first = 0;
  private step = 1;
  private beats = 0;
  private wAct = false;
  private bV = false;

  constructor(run: BusRun) {
    this.flashNext = run.flashNext;
  }

  begin(t: number, gmemArValid: boolean): void {
    const free = t >= this.freeAt;
    this.arReadyGmem = free;
    this.arReadyInsn = free && !gmemArValid;
    this.beatTo = -1;
    this.beatLast = false;
    if (this.src >= 0 && t >= this.first && (t - this.first) % this.step === 0) {
      const k = (t - this.first) / this.step;
      if (k < this.beats) {
        this.beatTo = this.src;
        this.beatLast = k === this.beats - 1;
      }
    }
    this.awReady = !this.wAct && !this.bV;
    this.wReady = this.wAct;
    this.bValid = this.bV;
  }

  /** An AR handshake of master `src` in cycle t: a burst of `beats` bytes from bus address `addr`. */
  acceptRead(t: number, src: number, addr: number, beats: number): void {
    const a = addr & ADDR_MASK;
    this.src = src;
    this.beats = beats;
    if ((a & REGION_BIT) === 0) {
      const cont = this.flashNext === a;
      if (!cont) this.flashCommands++;
      const lead = cont ? 0 : flashNewReadCycles(this.flashNext !== null);
      this.step = flashByteCycles();
      this.first = t + 1 + lead + this.step + BOARD_SLAVE.flashHandoverCycles;
      this.flashNext = a + beats;
      this.flashBytes += beats;
    } else {
      this.step = 1;
      this.first = t + BOARD_SLAVE.bramFirstBeat;
    }
    this.freeAt = this.first + (beats - 1) * this.step + 1;
  }

  /** End of a cycle on the write channels: an AW handshake, a W handshake with WLAST. */
  endWrite(awHs: boolean, wLastHs: boolean): void {
    if (this.bV) this.bV = false;
    if (awHs) this.wAct = true;
    if (wLastHs) {
      this.wAct = false;
      this.bV = true;
    }
  }
}

/** The run's bases and flash state, with the defaults of `nibble_run uart` (arch/bus.ts BusRun). */
export function boardRun(programWords: number, run?: Partial<BusRun>): BusRun {
  const programBase = run?.programBase ?? BOARD_SLAVE.bramBase;
  return {
    programBase,
    dataBase: run?.dataBase ?? programBase + Math.ceil((programWords * 16) / 64) * 64,
    flashNext: run?.flashNext ?? null,
  };
}

const BUS_RUN_FIELDS = ['programBase', 'dataBase', 'flashNext'] as const satisfies readonly (keyof BusRun)[];

/**
 * Throw a SimError naming the field when a board run's bases or flash state is one the board cannot have: the
 * option without the board slave, an unknown field, a base off the bus or one its shell refuses (ERROR.ALIGN), an
 * open flash read outside the flash.
 */
export function checkBusRun(
  run: Partial<BusRun> | undefined,
  cfg: ArchConfig,
  busModelled: boolean,
  programWords: number,
): void {
  if (run === undefined) return;
  const where = 'options.busRun';
  if (!busModelled || cfg.bus?.slave !== 'board')
    throw new SimError("applies only to a config with bus.slave 'board' simulated with its bus (memory 'bus')", where);
  if (typeof run !== 'object' || run === null) throw new SimError(`must be an object, got ${String(run)}`, where);
  for (const k of Object.keys(run))
    if (!(BUS_RUN_FIELDS as readonly string[]).includes(k))
      throw new SimError(`unknown field '${k}' (use ${BUS_RUN_FIELDS.join(', ')})`, where);
  const bus = cfg.bus;
  const busBytes = cfg.dram.busBytes;
  const top = 2 ** BOARD_SLAVE.addrBits;
  const at = (k: string) => `${where}.${k}`;
  const hex = (n: number) => `0x${n.toString(16)}`;
  const address = (k: string, v: unknown, align: number, bytes: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= top)
      throw new SimError(
        `must be an integer byte address on the board's ${BOARD_SLAVE.addrBits}-bit bus [0, ${hex(top)}), got ${String(v)}`,
        at(k),
      );
    if (v + bytes > top)
      throw new SimError(
        `the program's ${bytes} bytes from ${hex(v)} run past the end of the bus (${hex(top)})`,
        at(k),
      );
    if (v % align !== 0)
      throw new SimError(`${hex(v)} is not a multiple of ${align}: the shell refuses the run (ERROR.ALIGN)`, at(k));
  };
  if (run.programBase !== undefined)
    address(
      'programBase',
      run.programBase,
      programAlignBytes(bus.stream === true, bus.fetchWords, busBytes),
      programWords * 16,
    );
  if (run.dataBase !== undefined) address('dataBase', run.dataBase, busBytes, 0);
  const f = run.flashNext;
  if (
    f !== undefined &&
    f !== null &&
    !(typeof f === 'number' && Number.isInteger(f) && f >= 0 && f <= BOARD_SLAVE.flashWindow)
  )
    throw new SimError(
      `must be null (closed) or a flash byte address in [0, ${BOARD_SLAVE.flashWindow}], got ${String(f)}`,
      at('flashNext'),
    );
}
