/**
 * The shell's read side and the deterministic slave, register by register
 * (rtl-gen/shell/read.ts and top.ts are the hardware): an arbiter in front of
 * one burst splitter (the core's LOAD rows first, then instruction refills),
 * INCR bursts of at most `readBurst` beats that never cross 4 KiB, at most
 * `readOutstanding` of them in flight, and a slave that returns the first
 * beat of a burst `readLatency` cycles after its AR and then one beat per
 * cycle, bursts in order. A core beat reaches the core the cycle after the
 * shell takes it; an instruction word is in the instruction buffer the cycle
 * after its last beat, and the core can dispatch it one cycle later still.
 *
 * Bus addresses are the core's (DATA_BASE and PROGRAM_BASE on 4 KiB
 * boundaries): data byte a is at a, instruction word i at 16 i.
 * Cycles are the core's: the shell runs from cycle -1 (the cycle the core's
 * start pulse is high), with the program's first `prefillWords` words
 * already in the buffer.
 */
import type { BusParams } from './params.js';

interface Burst {
  /** cycle of its AR handshake */
  ar: number;
  beats: number;
  received: number;
  fetch: boolean;
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
  private sFetch = false;
  private issueNow = false;
  private outstanding = 0;
  private readonly bursts: Burst[] = [];
  private head = 0;
  private lastBeat = -Infinity;
  private respNext = false;
  // the instruction buffer
  private pfNext: number;
  private beatInWord = 0;
  private arrived: number;
  /** words in the buffer as the core's fetch sees them this cycle */
  private visible: number;
  /** words became visible to the fetch at the end of this cycle */
  private fresh = false;
  /** the core's instruction address last cycle: words below it are consumed */
  private consumed = 0;
  private readonly lineWords: number;

  constructor(private readonly p: BusParams) {
    this.pfNext = p.prefillWords;
    this.arrived = p.prefillWords;
    this.visible = p.prefillWords;
    this.lineWords = Math.ceil(p.programWords / p.wordsPerBeat) * p.wordsPerBeat;
  }

  /** Start of cycle t: what the core sees from the registers. */
  begin(): void {
    this.issueNow = this.act && this.outstanding < this.p.bus.readOutstanding;
    this.ready = !this.act || (this.issueNow && this.sLeft === this.burstBeats());
    this.coreBeat = this.respNext;
  }

  /** Whether the core's fetch can take instruction word `pc` this cycle (insn_valid). */
  wordReady(pc: number): boolean {
    return pc < this.visible || pc >= this.p.programWords;
  }

  /** Nothing in flight and nothing the refill logic would start. */
  get idle(): boolean {
    return (
      !this.act &&
      this.head === this.bursts.length &&
      !this.respNext &&
      this.visible === this.arrived &&
      !this.fresh &&
      !this.refillWanted()
    );
  }

  /**
   * End of cycle t: the core offered `offer` (accepted when `ready`), its
   * instruction address is now `insnAddr` (the next word it wants).
   */
  end(t: number, offer: ReadRequest | undefined, insnAddr: number): void {
    const bus = this.p.bus;
    if (this.issueNow) {
      const len = this.burstBeats();
      this.bursts.push({ ar: t + 1, beats: len, received: 0, fetch: this.sFetch });
      this.sAddr += len * 2 ** this.sSize;
      this.sLeft -= len;
      this.outstanding++;
      if (this.sLeft === 0) this.act = false;
    }
    if (this.ready) {
      if (offer) this.take(offer.addr, offer.beats, offer.size, false);
      else if (this.refillWanted()) {
        const words = Math.min(this.p.requestWords, this.lineWords - this.pfNext);
        this.take(this.pfNext * 16, (words / this.p.wordsPerBeat) * this.p.beatsPerWord, Math.log2(this.p.busBytes), true);
        this.pfNext += words;
      }
    }
    this.fresh = this.visible !== this.arrived;
    this.visible = this.arrived;
    this.respNext = false;
    const b = this.bursts[this.head];
    if (b && t > this.lastBeat && t >= (b.received === 0 ? b.ar + bus.readLatency : -Infinity)) {
      b.received++;
      this.lastBeat = t;
      if (!b.fetch) this.respNext = true;
      else if (++this.beatInWord === this.p.beatsPerWord) {
        this.beatInWord = 0;
        this.arrived += this.p.wordsPerBeat;
      }
      if (b.received === b.beats) {
        this.head++;
        this.outstanding--;
        if (this.head > 64 && this.head * 2 > this.bursts.length) {
          this.bursts.splice(0, this.head);
          this.head = 0;
        }
      }
    }
    this.consumed = insnAddr;
  }

  /** Beats of the burst the splitter would issue now: up to readBurst, up to the 4 KiB boundary. */
  private burstBeats(): number {
    const to4k = (4096 - (this.sAddr % 4096)) / 2 ** this.sSize;
    return Math.min(this.sLeft, to4k, this.p.bus.readBurst);
  }

  private take(addr: number, beats: number, size: number, fetch: boolean): void {
    this.act = beats !== 0;
    this.sAddr = addr;
    this.sLeft = beats;
    this.sSize = size;
    this.sFetch = fetch;
  }

  /** The refill logic asks for the next words: some are left and the buffer has room for them. */
  private refillWanted(): boolean {
    if (this.pfNext >= this.p.programWords) return false;
    const words = Math.min(this.p.requestWords, this.lineWords - this.pfNext);
    return this.pfNext + words <= this.consumed + this.p.bus.fetchWords;
  }
}
