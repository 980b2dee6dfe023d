/**
 * The timing and fast engines' schedule with the bus model: fetch, the LOAD
 * and STORE units and the shell's memory path stepped cycle by cycle (their
 * timing depends on what else is on the bus: instruction refills share the
 * read channel with LOADs), the compute unit placed by the shared timing
 * model (sim/timing.ts, which the bus does not affect), tokens as in
 * sim/schedule.ts. Cycles in which nothing can change are skipped.
 */
import { U_COMPUTE, U_HALT, U_LOAD, U_STORE, type PreparedProgram } from '../prepare.js';
import { budgetError, deadlockError, TokenTimes, type Schedule } from '../schedule.js';
import { UnitTimeline } from '../timing.js';
import type { LoadInst, StoreInst } from '../../isa/index.js';
import type { BusRun } from '../../arch/index.js';
import { busParams, type BusParams } from './params.js';
import { beginBusCycle, busPaths, busPathsIdle, type BusPaths } from './paths.js';
import type { ReadPath, ReadRequest } from './read-path.js';
import type { RingModel } from './stream-ring.js';
import { LoadTraffic, StoreTraffic } from './traffic.js';
import type { WritePath } from './write-path.js';

interface DmaState {
  inst: number;
  load?: LoadTraffic;
  store?: StoreTraffic;
  /** STORE: every beat sent, waiting for the write response */
  waiting: boolean;
}

class BusScheduler {
  readonly D: Float64Array;
  readonly S: Float64Array;
  readonly E: Float64Array;
  readonly dramWait: Float64Array;
  readonly read: ReadPath;
  readonly write: WritePath;
  private readonly tokens = new TokenTimes();
  private readonly timeline: UnitTimeline;
  private readonly lists: number[][] = [[], [], []];
  private readonly pos: Int32Array;
  private readonly head = [0, 0, 0];
  private readonly Q: number[];
  private readonly dma: (DmaState | undefined)[] = [undefined, undefined, undefined];
  readonly paths: BusPaths;
  /** the streaming shell's instruction ring (bus.stream), else every word is there from cycle 1 */
  private readonly ring: RingModel | undefined;
  private pc = 0;
  private halted = false;

  constructor(
    private readonly p: PreparedProgram,
    private readonly bp: BusParams,
  ) {
    const n = p.count;
    this.D = new Float64Array(n).fill(NaN);
    this.S = new Float64Array(n).fill(NaN);
    this.E = new Float64Array(n).fill(NaN);
    this.dramWait = new Float64Array(n);
    this.paths = busPaths(bp, n);
    this.read = this.paths.read;
    this.write = this.paths.write;
    this.ring = this.paths.ring;
    this.timeline = new UnitTimeline(p.arch);
    this.pos = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const u = p.unit[i]!;
      if (u !== U_HALT) {
        this.pos[i] = this.lists[u]!.length;
        this.lists[u]!.push(i);
      }
    }
    this.Q = [p.cfg.queues.load, p.cfg.queues.compute, p.cfg.queues.store];
  }

  get finished(): boolean {
    return this.halted && this.head.every((h, u) => h === this.lists[u]!.length) && this.dma.every((d) => !d);
  }

  /** One cycle; returns whether anything changed. */
  step(t: number): boolean {
    beginBusCycle(this.paths, t, this.pc);
    let progress = this.fetch(t);
    if (this.placeCompute()) progress = true;
    const offer = this.loadUnit(t);
    if (offer.progress) progress = true;
    if (this.storeUnit(t)) progress = true;
    this.read.end(t, offer.request);
    this.ring?.end(t);
    return progress || !busPathsIdle(this.paths, this.pc);
  }

  /** The cycle after `t` at which something can happen again (Infinity: never), when nothing is in flight. */
  nextEvent(t: number): number {
    let next = Infinity;
    const at = (x: number) => {
      if (x > t && x < next) next = x;
    };
    if (!this.halted) {
      at(1); // fetch starts in cycle 1
      if (this.ring) at(this.ring.ready(this.pc, this.D));
      const u = this.p.unit[this.pc]!;
      const k = this.pos[this.pc]!;
      if (u !== U_HALT && k >= this.Q[u]!) at(this.S[this.lists[u]![k - this.Q[u]!]!]! + 1);
    }
    for (const u of [U_LOAD, U_STORE]) {
      const h = this.lists[u]![this.head[u]!];
      if (h !== undefined && !Number.isNaN(this.D[h]!)) at(Math.max(this.D[h]! + 1, this.tokenReady(h)));
    }
    return next;
  }

  checkTokens(): void {
    this.tokens.checkOverflow();
  }

  deadlock(): Error {
    const queues = [0, 1, 2].map((u) => this.lists[u]!.slice(this.head[u]!).filter((i) => !Number.isNaN(this.D[i]!)));
    return deadlockError(this.p, { queues, tokens: this.tokens.counts(), fetchPc: this.halted ? -1 : this.pc });
  }

  private tokenReady(i: number): number {
    return Math.max(this.tokens.ready(this.p.pop0[i]!), this.tokens.ready(this.p.pop1[i]!));
  }

  private fetch(t: number): boolean {
    if (t < 1 || this.halted) return false;
    const i = this.pc;
    if (this.ring && this.ring.ready(i, this.D) > t) return false;
    const u = this.p.unit[i]!;
    if (u !== U_HALT) {
      const k = this.pos[i]!;
      if (k >= this.Q[u]!) {
        const s = this.S[this.lists[u]![k - this.Q[u]!]!]!;
        if (Number.isNaN(s) || s + 1 > t) return false;
      }
    }
    this.D[i] = t;
    this.pc++;
    if (u === U_HALT) {
      this.S[i] = t;
      this.E[i] = t + 1;
      this.halted = true;
    }
    return true;
  }

  /** Compute instructions go to the shared timing model as soon as their dispatch and tokens are known. */
  private placeCompute(): boolean {
    const list = this.lists[U_COMPUTE]!;
    let placed = false;
    while (this.head[U_COMPUTE]! < list.length) {
      const i = list[this.head[U_COMPUTE]!]!;
      const d = this.D[i]!;
      const tok = this.tokenReady(i);
      if (Number.isNaN(d) || Number.isNaN(tok)) break;
      const p = this.p;
      this.timeline.place(U_COMPUTE, p.occupancy[i]!, p.cycles[i]!, p.passes[i]!, p.pixels[i]!, Math.max(d + 1, tok));
      this.begin(i, this.timeline.start);
      this.retire(i, this.timeline.end);
      this.head[U_COMPUTE]!++;
      placed = true;
    }
    return placed;
  }

  private begin(i: number, s: number): void {
    this.S[i] = s;
    this.tokens.pop(this.p.pop0[i]!, s);
    this.tokens.pop(this.p.pop1[i]!, s);
  }

  private retire(i: number, e: number): void {
    this.E[i] = e;
    this.tokens.push(this.p.push0[i]!, e, i);
    this.tokens.push(this.p.push1[i]!, e, i);
  }

  /** The unit's queue head, if it can start in cycle t (the unit is free). */
  private startable(u: number, t: number): number {
    const i = this.lists[u]![this.head[u]!];
    if (i === undefined || this.dma[u]) return -1;
    const d = this.D[i]!;
    if (Number.isNaN(d) || d + 1 > t) return -1;
    const tok = this.tokenReady(i);
    return Number.isNaN(tok) || tok > t ? -1 : i;
  }

  /** Start unit u's head in cycle t: a NOP ends at once, a DMA gets its traffic. */
  private startDma(u: number, t: number): DmaState | undefined {
    const i = this.startable(u, t);
    if (i < 0) return undefined;
    this.head[u]!++;
    this.begin(i, t);
    const inst = this.p.code[i]!;
    if (inst.op === 'LOAD')
      return (this.dma[u] = { inst: i, load: new LoadTraffic(inst as LoadInst, this.bp), waiting: false });
    if (inst.op === 'STORE')
      return (this.dma[u] = {
        inst: i,
        store: new StoreTraffic(inst as StoreInst, this.bp, this.p.arch),
        waiting: false,
      });
    this.retire(i, t + 1);
    return undefined;
  }

  private finishDma(u: number, t: number, busyCycles: number): void {
    const s = this.dma[u]!;
    this.retire(s.inst, t + 1);
    this.dramWait[s.inst] = t + 1 - this.S[s.inst]! - busyCycles;
    this.dma[u] = undefined;
  }

  /** The LOAD unit in cycle t: returns the row request it offers. */
  private loadUnit(t: number): { request: ReadRequest | undefined; progress: boolean } {
    let s = this.dma[U_LOAD];
    let progress = false;
    if (!s) {
      const before = this.head[U_LOAD]!;
      s = this.startDma(U_LOAD, t);
      progress = this.head[U_LOAD]! !== before;
    }
    if (!s?.load) return { request: undefined, progress };
    const request = s.load.offer();
    if (request && this.read.ready) s.load.accepted();
    if (this.read.coreBeat && s.load.beat()) this.finishDma(U_LOAD, t, s.load.totalBeats);
    return { request, progress: true };
  }

  /** The STORE unit in cycle t (the write path steps exactly once). */
  private storeUnit(t: number): boolean {
    const s = this.dma[U_STORE];
    if (!s && this.head[U_STORE]! < this.lists[U_STORE]!.length) {
      const before = this.head[U_STORE]!;
      this.startDma(U_STORE, t);
      // the first beat goes out the cycle after the start
      this.write.cycle(t, false, 0, false);
      return this.head[U_STORE]! !== before;
    }
    if (!s?.store) {
      this.write.cycle(t, false, 0, false);
      return false;
    }
    const st = s.store;
    if (s.waiting) {
      if (this.write.response) this.finishDma(U_STORE, t, st.totalBeats + 1);
      this.write.cycle(t, false, 0, false);
      return true;
    }
    if (this.write.cycle(t, true, st.address(), st.last)) {
      st.fired();
      if (st.done) s.waiting = true;
    }
    return true;
  }
}

/** The schedule of a program with the bus model of its config's `bus` section. */
export function computeBusSchedule(p: PreparedProgram, maxCycles: number, run?: Partial<BusRun>): Schedule {
  const m = new BusScheduler(p, busParams(p.cfg, p.count, run));
  for (let t = -1; ; t++) {
    if (t > maxCycles) throw budgetError(maxCycles);
    const busy = m.step(t);
    if (m.finished) break;
    if (!busy) {
      const next = m.nextEvent(t);
      if (next === Infinity) throw m.deadlock();
      t = next - 1;
    }
  }
  let T = 0;
  for (let i = 0; i < p.count; i++) if (m.E[i]! > T) T = m.E[i]!;
  m.checkTokens();
  if (T > maxCycles) throw budgetError(maxCycles);
  const slave = m.paths.slave;
  return {
    dispatch: m.D,
    start: m.S,
    end: m.E,
    cycles: T,
    dramWait: m.dramWait,
    ...(slave
      ? { board: { flashNext: slave.flashNext, flashBytes: slave.flashBytes, flashCommands: slave.flashCommands } }
      : {}),
  };
}
