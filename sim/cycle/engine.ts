/**
 * The 'cycle' engine: every unit stepped every cycle, the software twin of the
 * RTL, one file per hardware unit (fetch.ts, load.ts, array.ts, vector.ts,
 * store.ts, tokens.ts). Nothing here uses the closed-form schedule; start and
 * end times emerge from queues, token counters, the DMA channels, the preload
 * / issue sequencers, the skewed systolic array (per-PE registers), the
 * de-skew, the ACC read-modify-write with bypass and the requant / pool
 * pipelines. Within a cycle, decisions read the state left by earlier cycles
 * ("X at cycle t" is a register update at the end of t, visible from t + 1).
 */
import type { Program } from '../../isa/index.js';
import { finishCounters, type Counters, type UnitCounters } from '../counters.js';
import type { Scratchpads } from '../memory.js';
import { U_COMPUTE, U_HALT, type PreparedProgram } from '../prepare.js';
import { budgetError, deadlockError } from '../schedule.js';
import type { BusRun } from '../../arch/index.js';
import type { BoardRunEnd } from '../schedule.js';
import { beginBusCycle, busParams, busPaths, busPathsIdle } from '../bus/index.js';
import { ArrayUnit } from './array.js';
import { CycleContext, type CycleBus, type UnitState } from './context.js';
import { FetchUnit, type FetchState } from './fetch.js';
import { LoadUnit } from './load.js';
import { StoreUnit } from './store.js';
import { VectorUnit } from './vector.js';

export type { UnitState } from './context.js';

/** Main signals of one cycle (what VCD and waveform viewers show). */
export interface CycleSnapshot {
  cycle: number;
  fetch: FetchState;
  /** instruction fetch dispatched this cycle, or -1 */
  dispatched: number;
  queueLoad: number;
  queueCompute: number;
  queueStore: number;
  /** token counters: load->compute, compute->load, compute->store, store->compute */
  tokens: [number, number, number, number];
  load: UnitState;
  loadInst: number;
  compute: UnitState;
  /** newest compute instruction in flight, or -1 */
  computeInst: number;
  store: UnitState;
  storeInst: number;
  /** GEMM whose weight tile is being preloaded, or -1 */
  preloadInst: number;
  /** GEMM issuing a pixel this cycle, or -1 */
  issueInst: number;
  /** PEs holding a valid activation */
  arrayOccupancy: number;
  accRead: boolean;
  accWrite: boolean;
  /** REQUANT / POOL writing OUT this cycle */
  outWrite: boolean;
  dramReadBeat: boolean;
  dramWriteBeat: boolean;
}

export interface CycleRunOptions {
  maxCycles: number;
  /** model the config's bus section (sim/bus/): fetch, LOAD and STORE through the shell's read and write paths */
  bus?: boolean;
  /** the board slave's run (bus.slave 'board') */
  busRun?: Partial<BusRun>;
  keepTrace: boolean;
  onCycle?: (s: CycleSnapshot) => void;
}

export interface CycleRunResult {
  cycles: number;
  dispatch: Float64Array;
  start: Float64Array;
  end: Float64Array;
  counters: Counters;
  trace?: CycleSnapshot[];
  board?: BoardRunEnd;
}

/** The machine: its units and what they share. */
class CycleMachine {
  readonly ctx: CycleContext;
  readonly fetch: FetchUnit;
  readonly load: LoadUnit;
  readonly store: StoreUnit;
  readonly array: ArrayUnit;
  readonly vector: VectorUnit;
  compute: UnitState = 'idle';
  computeInst = -1;
  /** the REQUANT a GEMM started beside (one per REQUANT), or -1 */
  private besideOf = -1;

  constructor(p: PreparedProgram, program: Program, dram: Uint8Array, sp: Scratchpads, bus?: CycleBus) {
    this.ctx = new CycleContext(p, program, dram, sp, bus);
    this.fetch = new FetchUnit(this.ctx);
    this.load = new LoadUnit(this.ctx);
    this.store = new StoreUnit(this.ctx);
    this.array = new ArrayUnit(this.ctx);
    this.vector = new VectorUnit(this.ctx);
  }

  /** One cycle of every unit, in the order their decisions depend on; returns whether anything progressed. */
  step(t: number): boolean {
    const bus = this.ctx.bus;
    if (bus) busBegin(bus, t, this.fetch.pc);
    let progress = this.fetch.step(t);
    if (this.load.step(t)) progress = true;
    if (this.store.step(t)) progress = true;
    // compute: a REQUANT / POOL / NOP starts once all earlier compute work is done, a GEMM while none runs
    // or one GEMM beside a REQUANT with gemm_beside, from the cycle after it started
    const { array, vector } = this;
    let computeActive = array.busy || vector.busy;
    if (vector.tryStart(t, !array.busy)) computeActive = true;
    const q = this.ctx.queues[U_COMPUTE]!;
    const head = q.length > 0 ? q[0]! : -1;
    const headIsGemm = head >= 0 && this.ctx.behaviour(head).unit === 'array';
    const beside =
      headIsGemm && vector.busy && vector.besideable && this.besideOf !== vector.inst && t > this.ctx.S[vector.inst]!;
    if (array.step(t, headIsGemm && (!vector.busy || beside), beside ? vector.inst : -1)) {
      computeActive = true;
      if (beside) this.besideOf = vector.inst;
    }
    this.computeInst = vector.inst >= 0 ? vector.inst : array.newest;
    vector.step(t);
    this.compute = computeActive ? 'busy' : this.ctx.queues[U_COMPUTE]!.length > 0 ? 'token' : 'idle';
    if (computeActive) progress = true;
    // end of cycle: pushes become visible, the dispatched instruction enters its queue
    this.ctx.tokens.commit();
    this.fetch.commit();
    if (bus) busEnd(bus, t);
    return progress;
  }

  /** Nothing in flight on the bus (always, without the bus model). */
  get busIdle(): boolean {
    const bus = this.ctx.bus;
    return !bus || busPathsIdle(bus.paths, this.fetch.pc);
  }

  get busy(): boolean {
    return this.load.busy || this.store.busy || this.array.busy || this.vector.busy || this.array.draining;
  }

  count(): void {
    const c = this.ctx.c;
    const f = this.fetch.state;
    if (f === 'dispatch') c.fetch.busy++;
    else if (f === 'stall') c.fetch.stallQueueFull++;
    else c.fetch.idle++;
    countState(c.load, this.load.state);
    countState(c.compute, this.compute);
    countState(c.store, this.store.state);
  }

  snapshot(t: number): CycleSnapshot {
    const { ctx, array } = this;
    return {
      cycle: t,
      fetch: this.fetch.state,
      dispatched: this.fetch.dispatched,
      queueLoad: ctx.queues[0]!.length,
      queueCompute: ctx.queues[1]!.length,
      queueStore: ctx.queues[2]!.length,
      tokens: ctx.tokens.snapshot(),
      load: this.load.state,
      loadInst: this.load.active,
      compute: this.compute,
      computeInst: this.computeInst,
      store: this.store.state,
      storeInst: this.store.active,
      preloadInst: array.preloadInst,
      issueInst: array.issueInst,
      arrayOccupancy: array.occupancy,
      accRead: array.accRead,
      accWrite: array.accWrite,
      outWrite: this.vector.outWrite,
      dramReadBeat: this.load.readBeat,
      dramWriteBeat: this.store.writeBeat,
    };
  }
}

function busBegin(bus: CycleBus, t: number, lo: number): void {
  beginBusCycle(bus.paths, t, lo);
  bus.offer = undefined;
  bus.wrote = false;
}

/** End of cycle t: the write path steps once (idle unless the STORE unit offered a beat), then the read path. */
function busEnd(bus: CycleBus, t: number): void {
  if (!bus.wrote) bus.write.cycle(t, false, 0, false);
  bus.read.end(t, bus.offer);
  bus.ring?.end(t);
}

function newBus(p: PreparedProgram, run: Partial<BusRun> | undefined): CycleBus {
  const params = busParams(p.cfg, p.count, run);
  const paths = busPaths(params, p.count);
  const bus: CycleBus = {
    params,
    read: paths.read,
    write: paths.write,
    ring: paths.ring,
    paths,
    offer: undefined,
    wrote: false,
  };
  // the shell's first cycle of the run is the one in which the core's start pulse is high
  busBegin(bus, -1, 0);
  busEnd(bus, -1);
  return bus;
}

function countState(uc: UnitCounters, s: UnitState): void {
  if (s === 'busy') uc.busy++;
  else if (s === 'token') uc.stallToken++;
  else if (s === 'dram') uc.stallDram++;
  else uc.idle++;
}

export function runCycleEngine(
  p: PreparedProgram,
  program: Program,
  dram: Uint8Array,
  sp: Scratchpads,
  opts: CycleRunOptions,
): CycleRunResult {
  const m = new CycleMachine(p, program, dram, sp, opts.bus && p.cfg.bus ? newBus(p, opts.busRun) : undefined);
  const { ctx } = m;
  const trace: CycleSnapshot[] | undefined = opts.keepTrace ? [] : undefined;
  const wantSnap = opts.keepTrace || opts.onCycle !== undefined;
  let T: number;
  for (let t = 0; ; t++) {
    if (t >= opts.maxCycles) throw budgetError(opts.maxCycles);
    const progress = m.step(t);
    m.count();
    if (wantSnap) {
      const snap = m.snapshot(t);
      trace?.push(snap);
      opts.onCycle?.(snap);
    }
    const busy = m.busy;
    if (m.fetch.halted && !busy && ctx.queues.every((q) => q.length === 0)) {
      T = t + 1;
      break;
    }
    if (t >= 1 && !progress && !busy && m.busIdle) {
      throw deadlockError(p, {
        queues: ctx.queues.map((q) => [...q]),
        tokens: [...ctx.tokens.count],
        fetchPc: m.fetch.halted ? -1 : m.fetch.pc,
      });
    }
  }
  const c = ctx.c;
  c.cycles = T;
  const unitCounters = [c.load, c.compute, c.store];
  for (let i = 0; i < p.count; i++) {
    if (p.unit[i] === U_HALT) continue;
    c.fetch.instructions++;
    unitCounters[p.unit[i]!]!.instructions++;
  }
  c.fetch.instructions++;
  finishCounters(c, p, program, ctx.S, ctx.E);
  const result: CycleRunResult = { cycles: T, dispatch: ctx.D, start: ctx.S, end: ctx.E, counters: c };
  if (trace) result.trace = trace;
  const slave = ctx.bus?.paths.slave;
  if (slave)
    result.board = { flashNext: slave.flashNext, flashBytes: slave.flashBytes, flashCommands: slave.flashCommands };
  return result;
}
