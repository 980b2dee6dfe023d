/**
 * The shell's read side and the deterministic slave, register by register
 * (rtl-gen/shell/read.ts and top.ts are the hardware): one burst splitter
 * taking the core's LOAD rows, INCR bursts of at most `readBurst` beats that
 * never cross 4 KiB, at most `readOutstanding` of them in flight, and a slave
 * that returns the first beat of a burst `readLatency` cycles after its AR and
 * then one beat per cycle, bursts in order. A beat reaches the core the cycle
 * after the shell takes it.
 *
 * Bus addresses are the core's (DATA_BASE on a 4 KiB boundary). Cycles are
 * the core's: the shell runs from cycle -1 (the cycle the core's start pulse
 * is high); the program fetch has finished before it (the instruction memory
 * holds the whole program, config.bus.fetchWords words at most).
 *
 * With the board slave (bus.slave 'board', sim/bus/board-slave.ts) the AR register waits for ARREADY (the next
 * burst is cut only once it is free: ar_free), burst addresses are bus addresses (DATA_BASE + the core's: the
 * 4 KiB cuts fall where the shell makes them) and the beats come when the slave sends them.
 */
import { GMEM, type BoardSlave } from './board-slave.js';
import type { BusParams } from './params.js';

interface Burst {
  /** cycle of its AR handshake */
  ar: number;
  beats: number;
  received: number;
}

/** A read request as the core offers it: the bus address, its beats and their AxSIZE. */
export interface ReadRequest {
  addr: number;
  beats: number;
  size: number;
}

export class ReadPath {
  /** the core's read request is accepted this cycle (rd_req_ready) */
  ready = false;
  /** a read beat reaches the core this cycle (rd_resp_valid) */
  coreBeat = false;

  // the burst splitter (nibble_axi_rd)
  private act = false;
  private sAddr = 0;
  private sLeft = 0;
  private sSize = 0;
  private issueNow = false;
  private outstanding = 0;
  private readonly bursts: Burst[] = [];
  private head = 0;
  private lastBeat = -Infinity;
  private respNext = false;
  // board slave: the AR register (ARVALID, address, beats) and the base of the core's addresses
  private arValid = false;
  private arAddr = 0;
  private arBeats = 0;
  private readonly base: number;

  constructor(
    private readonly p: BusParams,
    private readonly slave?: BoardSlave,
  ) {
    this.base = slave ? p.board!.dataBase : 0;
  }

  /** m_axi_gmem's ARVALID this cycle (the board slave's arbitration reads it) */
  get arValidNow(): boolean {
    return this.arValid;
  }

  /** Start of cycle t: what the core sees from the registers. */
  begin(): void {
    const arFree = !this.slave || !this.arValid || this.slave.arReadyGmem;
    this.issueNow = this.act && arFree && this.outstanding < this.p.bus.readOutstanding;
    this.ready = !this.act || (this.issueNow && this.sLeft === this.burstBeats());
    this.coreBeat = this.respNext;
  }

  /** Nothing in flight. */
  get idle(): boolean {
    if (this.slave) return !this.act && !this.arValid && this.outstanding === 0 && !this.respNext;
    return !this.act && this.head === this.bursts.length && !this.respNext;
  }

  /** End of cycle t: the core offered `offer` (accepted when `ready`). */
  end(t: number, offer: ReadRequest | undefined): void {
    if (this.slave) return this.endBoard(t, offer, this.slave);
    if (this.issueNow) {
      const len = this.burstBeats();
      this.bursts.push({ ar: t + 1, beats: len, received: 0 });
      this.sAddr += len * 2 ** this.sSize;
      this.sLeft -= len;
      this.outstanding++;
      if (this.sLeft === 0) this.act = false;
    }
    if (this.ready && offer) {
      this.act = offer.beats !== 0;
      this.sAddr = offer.addr;
      this.sLeft = offer.beats;
      this.sSize = offer.size;
    }
    this.respNext = false;
    const b = this.bursts[this.head];
    if (b && t > this.lastBeat && (b.received > 0 || t >= b.ar + this.p.bus.readLatency)) {
      b.received++;
      this.lastBeat = t;
      this.respNext = true;
      if (b.received === b.beats) {
        this.head++;
        this.outstanding--;
        if (this.head > 64 && this.head * 2 > this.bursts.length) {
          this.bursts.splice(0, this.head);
          this.head = 0;
        }
      }
    }
  }

  /** end() with the board slave: the AR register handshakes when the slave is free, beats come from the slave. */
  private endBoard(t: number, offer: ReadRequest | undefined, slave: BoardSlave): void {
    if (this.arValid && slave.arReadyGmem) slave.acceptRead(t, GMEM, this.arAddr, this.arBeats);
    if (this.issueNow) {
      const len = this.burstBeats();
      this.arValid = true;
      this.arAddr = this.sAddr;
      this.arBeats = len;
      this.sAddr += len * 2 ** this.sSize;
      this.sLeft -= len;
      this.outstanding++;
      if (this.sLeft === 0) this.act = false;
    } else if (slave.arReadyGmem) this.arValid = false;
    if (this.ready && offer) {
      this.act = offer.beats !== 0;
      this.sAddr = this.base + offer.addr;
      this.sLeft = offer.beats;
      this.sSize = offer.size;
    }
    this.respNext = slave.beatTo === GMEM;
    if (this.respNext && slave.beatLast) this.outstanding--;
  }

  /** Beats of the burst the splitter would issue now: up to readBurst, up to the 4 KiB boundary. */
  private burstBeats(): number {
    const to4k = (4096 - (this.sAddr % 4096)) / 2 ** this.sSize;
    return Math.min(this.sLeft, to4k, this.p.bus.readBurst);
  }
}
