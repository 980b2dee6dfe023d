/**
 * The shell's write side and the deterministic slave, register by register
 * (rtl-gen/shell/write.ts is the hardware). The core's STORE offers one beat
 * per cycle with its address; a one-beat look-ahead register decides where a
 * burst ends (the next beat is not contiguous, the burst has `writeBurst`
 * beats, the next beat starts a 4 KiB page, or it is the STORE's last beat),
 * the beat moves into the W buffer and, with a burst's last beat, its AW goes
 * out, unless `writeOutstanding` bursts already await their B, which holds
 * the beat (and the core). The slave takes W every cycle and answers a burst
 * `writeLatency` cycles after the later of its AW and its last beat, in order,
 * one B per cycle; the core's write response is the cycle after the STORE's
 * last B. With the board slave (sim/bus/board-slave.ts) AW waits for AWREADY (a closing beat waits for a free AW
 * register: aw_free), W for WREADY, and B comes when the slave sends it.
 */
import type { BoardSlave } from './board-slave.js';
import type { BusParams } from './params.js';

export class WritePath {
  /** the STORE's write response this cycle (wr_resp_valid) */
  response = false;

  // look-ahead register
  private hv = false;
  private hLast = false;
  private hAddr = 0;
  // beats of the open burst already moved
  private bCnt = 0;
  private awValid = false;
  private queued = 0;
  /** close flags of the beats in the W buffer */
  private readonly wq: boolean[] = [];
  private bOut = 0;
  private lastPend = false;
  // the slave: per burst its AW and last-W cycles, then the B schedule
  private readonly awAt: number[] = [];
  private readonly wLastAt: number[] = [];
  private readonly bDue: number[] = [];
  private bNext = 0;
  private lastB = -Infinity;
  private readonly beatBytes: number;

  constructor(
    private readonly p: BusParams,
    private readonly slave?: BoardSlave,
  ) {
    this.beatBytes = 2 ** p.entries[3]!.size;
  }

  begin(): void {
    this.response = this.lastPend && this.bOut === 0;
  }

  get idle(): boolean {
    return !this.hv && !this.awValid && this.queued === 0 && this.bOut === 0 && !this.lastPend;
  }

  /** Cycle t: the core offers a beat at `addr` (`last`: the STORE's last) or nothing; returns wr_ready. */
  cycle(t: number, valid: boolean, addr: number, last: boolean): boolean {
    const bus = this.p.bus;
    const hNext = this.hAddr + this.beatBytes;
    const pageEnd = hNext % 4096 === 0;
    const cap = this.bCnt === bus.writeBurst - 1;
    const contig = valid && addr === hNext;
    const known = this.hLast || pageEnd || cap || valid;
    const close = this.hLast || pageEnd || cap || !contig;
    const qFull = this.queued === bus.writeBurst;
    const awReady = this.slave ? this.slave.awReady : true;
    const awFree = !this.awValid || awReady;
    const move = this.hv && known && !qFull && (!close || (awFree && this.bOut < bus.writeOutstanding));
    const ready = !this.hv || move;
    // the channels this cycle: AW (held from last cycle), the W buffer's head, a due B
    const bHs = this.slave ? this.boardChannels(this.slave) : this.channels(t);
    // register updates (every right-hand side is this cycle's register value)
    const closing = move && close;
    const closingLast = closing && this.hLast;
    this.awValid = closing || (this.awValid && !awReady);
    if (move) {
      this.bCnt = close ? 0 : this.bCnt + 1;
      this.wq.push(close);
      this.queued++;
    }
    if (valid && ready) {
      this.hv = true;
      this.hLast = last;
      this.hAddr = addr;
    } else if (move) this.hv = false;
    this.bOut += (closing ? 1 : 0) - (bHs ? 1 : 0);
    if (this.response) this.lastPend = false;
    else if (closingLast) this.lastPend = true;
    return ready;
  }

  /** The deterministic slave's channels in cycle t: AW and W always ready, B when due; returns the B handshake. */
  private channels(t: number): boolean {
    if (this.awValid) this.awAt.push(t);
    if (this.queued > 0) {
      this.queued--;
      if (this.wq.shift()) this.wLastAt.push(t);
    }
    this.schedule();
    if (this.bNext < this.bDue.length && this.bDue[this.bNext]! <= t && t > this.lastB) {
      this.lastB = t;
      this.bNext++;
      return true;
    }
    return false;
  }

  /** The board slave's channels this cycle (its begin() ran): AW when it is ready, W once its AW is in, its B. */
  private boardChannels(slave: BoardSlave): boolean {
    const awHs = this.awValid && slave.awReady;
    let wLast = false;
    if (this.queued > 0 && slave.wReady) {
      this.queued--;
      wLast = this.wq.shift()!;
    }
    const bHs = slave.bValid;
    slave.endWrite(awHs, wLast);
    return bHs;
  }

  /** Bursts whose AW and last beat have both been seen get their B cycle. */
  private schedule(): void {
    while (this.bDue.length < Math.min(this.awAt.length, this.wLastAt.length)) {
      const k = this.bDue.length;
      const due = Math.max(this.awAt[k]!, this.wLastAt[k]!) + this.p.bus.writeLatency;
      this.bDue.push(Math.max(due, k > 0 ? this.bDue[k - 1]! : -Infinity));
    }
  }
}
