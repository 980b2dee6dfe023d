/**
 * The streaming shell's instruction ring and its refill (rtl-gen/shell/top.ts,
 * `streamRefill`, is the hardware; docs/board.md, "Streaming instructions"),
 * with the deterministic slave on the refill master: word w lives in slot
 * w mod W (W = bus.fetchWords); bursts of C = min(W / 2, 16 x busBytes) words
 * (K = 16 / busBytes beats a word) go out one at a time, burst b as soon as
 * the previous one has delivered its last beat and the core has passed every
 * word whose slot it overwrites (s_rq + n <= s_lo + W, s_lo the core's latest
 * instruction address: the number of words dispatched before the cycle). A
 * burst decided in cycle t has its AR in t + 1, its first beat readLatency
 * cycles later and then one beat a cycle; a word is granted from the cycle
 * after its last beat, and fetch dispatches it at the earliest the cycle
 * after the first grant while it asks for it (from the dispatch of the word
 * before). The first burst is decided in cycle -1 (the core's start pulse).
 *
 * Burst issue times depend only on the dispatch cycles of earlier words
 * (n <= W / 2), so the ring is evaluated lazily, in program order, by every
 * engine from the dispatch cycles it has so far.
 */
import { streamBurstWords } from '../../arch/index.js';
import { INSN, type BoardSlave } from './board-slave.js';
import type { BusParams } from './params.js';

/** The ring as fetch and the bus step see it: evaluated lazily (the deterministic slave) or stepped (the board's). */
export interface RingModel {
  /** The first cycle in which fetch may dispatch instruction i, as far as the ring decides (Infinity: not known yet). */
  ready(i: number, D: Float64Array): number;
  /** Start of cycle t; `lo` words have been dispatched before it (s_lo). */
  begin(t: number, lo: number): void;
  /** End of cycle t. */
  end(t: number): void;
  /** Something in flight or about to be requested once `lo` words are dispatched. */
  busy(lo: number): boolean;
}

export class InstructionRing implements RingModel {
  /** words per refill burst */
  readonly burstWords: number;
  /** AXI beats per 128-bit word */
  readonly beatsPerWord: number;
  private readonly words: number;
  private readonly latency: number;
  /** per burst decided so far: the cycle it is decided in */
  private readonly issue: number[] = [];
  private lastBeat = -Infinity;

  constructor(
    p: BusParams,
    private readonly count: number,
  ) {
    this.words = p.bus.fetchWords;
    this.burstWords = streamBurstWords(this.words, p.busBytes);
    this.beatsPerWord = 16 / p.busBytes;
    this.latency = p.bus.readLatency;
  }

  /** The first cycle in which fetch may dispatch instruction i, as far as the ring decides (D: dispatch cycles of the words before i). */
  ready(i: number, D: Float64Array): number {
    const C = this.burstWords;
    const b = Math.floor(i / C);
    while (this.issue.length <= b) this.decide(this.issue.length, D);
    const arrival = this.issue[b]! + this.latency + (i - b * C + 1) * this.beatsPerWord + 1;
    return Math.max(i === 0 ? 0 : D[i - 1]!, arrival) + 1;
  }

  begin(): void {}
  end(): void {}
  busy(): boolean {
    return false;
  }

  private decide(b: number, D: Float64Array): void {
    const C = this.burstWords;
    const n = Math.min(C, this.count - b * C);
    // every word whose slot the burst overwrites has been dispatched before the cycle
    const m = b * C + n - this.words;
    const t = Math.max(-1, this.lastBeat + 1, m > 0 ? D[m - 1]! + 1 : -1);
    this.issue.push(t);
    this.lastBeat = t + this.latency + n * this.beatsPerWord;
  }
}

/**
 * The ring's refill on the board slave (bus.slave 'board'), stepped cycle by cycle with the read path, since its
 * bursts wait for the slave the LOADs share (rtl-gen/shell/top.ts `streamRefill`, register by register): s_issue
 * when no burst is in flight, words are left and their slots are free (s_rq + n <= s_lo + W); the AR register
 * held until m_axi_insn's ARREADY; a word counted (s_wp) the cycle after its last beat, dispatched at the earliest
 * the cycle after that.
 */
export class BoardRing implements RingModel {
  private readonly burstWords: number;
  private readonly beatsPerWord: number;
  private readonly words: number;
  private readonly base: number;
  /** per word: the first cycle s_wp counts it */
  private readonly granted: Float64Array;
  private rq = 0;
  private wp = 0;
  private beat = 0;
  private busyBurst = false;
  private arValid = false;
  private arAddr = 0;
  private arBeats = 0;
  private issueNow = false;

  constructor(
    p: BusParams,
    private readonly count: number,
    private readonly slave: BoardSlave,
  ) {
    this.words = p.bus.fetchWords;
    this.burstWords = streamBurstWords(this.words, p.busBytes);
    this.beatsPerWord = 16 / p.busBytes;
    this.base = p.board!.programBase;
    this.granted = new Float64Array(count).fill(Infinity);
  }

  ready(i: number, D: Float64Array): number {
    return Math.max(i === 0 ? 0 : D[i - 1]!, this.granted[i]!) + 1;
  }

  begin(_t: number, lo: number): void {
    this.issueNow = !this.busyBurst && this.canIssue(lo);
  }

  end(t: number): void {
    const slave = this.slave;
    if (this.arValid && slave.arReadyInsn) slave.acceptRead(t, INSN, this.arAddr, this.arBeats);
    if (this.issueNow) {
      const n = Math.min(this.burstWords, this.count - this.rq);
      this.arValid = true;
      this.busyBurst = true;
      this.arAddr = this.base + this.rq * 16;
      this.arBeats = n * this.beatsPerWord;
      this.rq += n;
    } else if (slave.arReadyInsn) this.arValid = false;
    if (slave.beatTo === INSN) {
      if (++this.beat === this.beatsPerWord) {
        this.beat = 0;
        this.granted[this.wp++] = t + 1;
      }
      if (slave.beatLast) this.busyBurst = false;
    }
  }

  busy(lo: number): boolean {
    return this.arValid || this.busyBurst || this.canIssue(lo);
  }

  private canIssue(lo: number): boolean {
    const n = Math.min(this.burstWords, this.count - this.rq);
    return this.rq !== this.count && this.rq + n <= lo + this.words;
  }
}
