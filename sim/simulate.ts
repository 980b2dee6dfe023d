/**
 * simulate(): one entry point, three engines over one timing model.
 *  - 'timing': schedule only (no data);
 *  - 'fast':   schedule + functional execution of each instruction in start order;
 *  - 'cycle':  every unit stepped every cycle (the software twin of the RTL).
 */
import { NibbleError, SimError, type BusRun } from '../arch/index.js';
import { unpackTensor } from '../isa/index.js';
import type { Program } from '../isa/index.js';
import { countersFromSchedule, type Counters } from './counters.js';
import { runCycleEngine, type CycleSnapshot } from './cycle/index.js';
import { computeEnergy, type EnergyOptions, type EnergyReport } from './energy.js';
import { FunctionalUnit } from './execute.js';
import { sharedGemmKernel } from './kernels/gemm-kernel.js';
import { fastEngineGemmCore } from './kernels/gemm-team.js';
import { ResidentUnits } from './kernels/units.js';
import { simOpOf } from './ops/index.js';
import { buildDram, copyScratchpads, newScratchpads, type Scratchpads } from './memory.js';
import { preparedProgram, U_HALT, type PreparedProgram } from './prepare.js';
import { computeSchedule, type BoardRunEnd, type Schedule } from './schedule.js';
import { checkBusRun, computeBusSchedule } from './bus/index.js';

export type Engine = 'fast' | 'cycle' | 'timing';

export interface SimOptions {
  engine: Engine;
  /** logical NCHW values per input tensor name; missing inputs are filled with seeded random values */
  inputs?: Record<string, Int32Array | Uint8Array>;
  /** seed of the random input fill (default 1) */
  seed?: number;
  /** stop with SimError when the program needs more cycles (default 2e9; 'cycle': 2e7) */
  maxCycles?: number;
  collect?: {
    /** kept for API stability: per-instruction D/S/E are always returned */
    perInstruction?: boolean;
    /** 'cycle' only: keep one CycleSnapshot per cycle in result.trace */
    trace?: boolean;
  };
  /** 'cycle' only: called after every cycle with the machine's main signals */
  onCycle?: (snap: CycleSnapshot) => void;
  /**
   * 'fast' only: the GEMM core. 'wasm' (default): the WebAssembly SIMD kernel wherever the no-overflow bound
   * holds (it falls back to 'js' when the kernel is not built or the runtime lacks SIMD); 'js': the JavaScript
   * loops alone (the fallback, and the oracle the kernel is tested against). Results are identical.
   */
  gemm?: 'wasm' | 'js';
  /**
   * 'fast' with the 'wasm' core: threads that run GEMMs (1, the default, or 2: the main thread and one helper that
   * takes GEMMs whose ACC range the following instructions leave alone). Results and counters are identical.
   */
  threads?: number;
  /** energy estimate options (table from loadEnergyTable, DRAM kind); false = no estimate */
  energy?: EnergyOptions | false;
  /**
   * For a config with a `bus` section: 'bus' (default) models the AXI shell's memory path and its deterministic
   * slave (sim/bus/, docs/board.md); 'core' the core's own DRAM channels (dram.latency), as the bare core's RTL
   * sees them. Without a bus section the core's channels are modelled either way.
   */
  memory?: 'bus' | 'core';
  /**
   * With the board slave (config.bus.slave 'board', docs/board.md): the run's PROGRAM_BASE, DATA_BASE and the flash's
   * open read at its start (a previous run's result.board.flashNext); defaults: `nibble_run uart`'s bases, closed.
   */
  busRun?: Partial<BusRun>;
}

export interface SimResult {
  engine: Engine;
  /** T of docs/architecture.md section 3: the cycle in which `done` rises */
  cycles: number;
  /** per instruction (up to and including HALT): dispatch D, start S, end E, retire E-1. HALT: S = D, E = D + 1 */
  dispatch: Float64Array;
  start: Float64Array;
  end: Float64Array;
  retire: Float64Array;
  counters: Counters;
  /** unpacked output tensors (empty for 'timing') */
  outputs: Record<string, Int32Array>;
  /** final DRAM image: only the bytes the program touches, from address 0 (undefined for 'timing') */
  dram: Uint8Array | undefined;
  /** final scratchpad contents (undefined for 'timing') */
  scratchpads: Scratchpads | undefined;
  /** inputs that were not given and were filled with seeded random values */
  randomInputs: string[];
  /** 'cycle' with collect.trace: one snapshot per cycle */
  trace?: CycleSnapshot[];
  /** the simulated program (trace writers name instructions from it) */
  program: Program;
  /** energy estimate (sim/energy.ts) unless options.energy === false */
  energy?: EnergyReport;
  /** with the board slave: the flash's open read at the end (the next run's busRun.flashNext), its bytes and commands */
  board?: BoardRunEnd;
}

export const DEFAULT_MAX_CYCLES = 2e9;
export const DEFAULT_MAX_CYCLES_CYCLE_ENGINE = 2e7;

export function simulate(program: Program, opts: SimOptions): SimResult {
  try {
    return simulateInner(program, opts);
  } catch (e) {
    if (e instanceof NibbleError) throw e;
    if (e instanceof RangeError) throw new SimError(`simulation ran out of memory or range: ${e.message}`);
    throw e;
  }
}

/**
 * The timing model over a whole program (fetch, queues, tokens, units): what
 * the 'timing' engine computes, without counters. The compiler's estimate.
 */
export function scheduleProgram(program: Program, maxCycles = DEFAULT_MAX_CYCLES): Schedule {
  return schedule(preparedProgram(program), maxCycles, true);
}

/** A board-slave run's result: the flash state at the end. */
function withBoard<T extends SimResult>(r: T, board: BoardRunEnd | undefined): T {
  if (board) r.board = board;
  return r;
}

/** The schedule engines' timing: the bus model when the config has one (and it is wanted), else the core's. */
function schedule(p: PreparedProgram, maxCycles: number, bus: boolean, run?: Partial<BusRun>): Schedule {
  return bus && p.cfg.bus ? computeBusSchedule(p, maxCycles, run) : computeSchedule(p, maxCycles);
}

/** Energy of a finished simulation with another table or DRAM kind (simulate() already attaches one with the defaults). */
export function estimateEnergy(result: SimResult, opts: EnergyOptions = {}): EnergyReport {
  return computeEnergy(result.program, preparedProgram(result.program), result.counters, opts);
}

function simulateInner(program: Program, opts: SimOptions): SimResult {
  const p = preparedProgram(program);
  const r = runEngine(program, p, opts);
  if (opts.energy !== false) r.energy = computeEnergy(program, p, r.counters, opts.energy ?? {});
  return r;
}

function runEngine(program: Program, p: PreparedProgram, opts: SimOptions): SimResult {
  const engine = opts.engine;
  if (engine !== 'fast' && engine !== 'cycle' && engine !== 'timing') {
    throw new SimError(`unknown engine '${String(engine)}' (use fast, cycle or timing)`, 'options.engine');
  }
  const maxCycles = opts.maxCycles ?? (engine === 'cycle' ? DEFAULT_MAX_CYCLES_CYCLE_ENGINE : DEFAULT_MAX_CYCLES);
  const seed = opts.seed ?? 1;
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new SimError(`must be a positive integer, got ${String(opts.threads)}`, 'options.threads');
  }
  if (opts.memory !== undefined && opts.memory !== 'bus' && opts.memory !== 'core')
    throw new SimError(`unknown memory model '${String(opts.memory)}' (use bus or core)`, 'options.memory');
  const bus = p.cfg.bus !== undefined && opts.memory !== 'core';
  checkBusRun(opts.busRun, p.cfg, bus, program.code.length);
  if (engine === 'timing') {
    const sch = schedule(p, maxCycles, bus, opts.busRun);
    const counters = countersFromSchedule(p, program, sch);
    return withBoard(
      {
        engine,
        cycles: sch.cycles,
        dispatch: sch.dispatch,
        start: sch.start,
        end: sch.end,
        retire: sch.end.map((e) => e - 1),
        counters,
        outputs: {},
        dram: undefined,
        scratchpads: undefined,
        // no data, so nothing was filled
        randomInputs: [],
        program,
      },
      sch.board,
    );
  }
  if (engine === 'fast') return runFastEngine(program, p, opts, maxCycles, seed, bus);
  const { dram, randomInputs } = buildDram(program, p, opts.inputs, seed);
  const sp = newScratchpads(p);
  const r = runCycleEngine(p, program, dram, sp, {
    maxCycles,
    bus,
    keepTrace: opts.collect?.trace === true,
    ...(opts.busRun ? { busRun: opts.busRun } : {}),
    ...(opts.onCycle ? { onCycle: opts.onCycle } : {}),
  });
  const res = finish(program, p, engine, r.cycles, r.dispatch, r.start, r.end, r.counters, dram, sp, randomInputs);
  if (r.trace) res.trace = r.trace;
  return withBoard(res, r.board);
}

/**
 * The fast engine. With the WebAssembly kernels (the default) the
 * scratchpads and the DRAM image live in the kernel's memory, so GEMMs read
 * and write them in place and LOAD, STORE, REQUANT and POOL run there too;
 * that memory is reused by the next run, so the run returns copies.
 */
function runFastEngine(
  program: Program,
  p: PreparedProgram,
  opts: SimOptions,
  maxCycles: number,
  seed: number,
  bus: boolean,
) {
  const sch = schedule(p, maxCycles, bus, opts.busRun);
  const counters = countersFromSchedule(p, program, sch);
  const order = startOrder(p, sch.start, sch.cycles);
  const own = opts.gemm === 'js' ? undefined : sharedGemmKernel();
  const resident = own?.resident(p);
  const { dram, randomInputs } = buildDram(program, p, opts.inputs, seed, resident?.dram);
  const sp = resident?.sp ?? newScratchpads(p);
  const core = own ? fastEngineGemmCore(opts.threads) : undefined;
  const units = own && resident ? new ResidentUnits(own, resident, p.arch) : undefined;
  const fu = new FunctionalUnit(p, sp, dram, core, units);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const inst = p.code[i]!;
    fu.before(inst);
    simOpOf(inst).execute(fu, i, inst as never);
  }
  fu.finish();
  return withBoard(
    finish(
      program,
      p,
      'fast',
      sch.cycles,
      sch.dispatch,
      sch.start,
      sch.end,
      counters,
      resident ? dram.slice() : dram,
      resident ? copyScratchpads(sp) : sp,
      randomInputs,
    ),
    sch.board,
  );
}

/** Non-HALT instructions by start cycle, ties in program order (a numeric sort of start * count + index when that is exact). */
function startOrder(p: PreparedProgram, S: Float64Array, cycles: number): Int32Array {
  const count = p.count;
  let m = 0;
  for (let i = 0; i < count; i++) if (p.unit[i] !== U_HALT) m++;
  const order = new Int32Array(m);
  if ((cycles + 1) * count < 2 ** 52) {
    const keys = new Float64Array(m);
    for (let i = 0, k = 0; i < count; i++) if (p.unit[i] !== U_HALT) keys[k++] = S[i]! * count + i;
    keys.sort();
    for (let k = 0; k < m; k++) order[k] = keys[k]! % count;
    return order;
  }
  const list: number[] = [];
  for (let i = 0; i < count; i++) if (p.unit[i] !== U_HALT) list.push(i);
  list.sort((x, y) => S[x]! - S[y]! || x - y);
  order.set(list);
  return order;
}

function finish(
  program: Program,
  m: Pick<PreparedProgram, 'cfg' | 'arch'>,
  engine: Engine,
  cycles: number,
  D: Float64Array,
  S: Float64Array,
  E: Float64Array,
  counters: Counters,
  dram: Uint8Array,
  sp: Scratchpads,
  randomInputs: string[],
): SimResult {
  const outputs: Record<string, Int32Array> = {};
  for (const d of program.outputs) {
    try {
      outputs[d.name] = unpackTensor(d, dram, m.cfg, m.arch);
    } catch (e) {
      throw new SimError((e as Error).message, `output '${d.name}'`);
    }
  }
  return {
    engine,
    cycles,
    dispatch: D,
    start: S,
    end: E,
    retire: E.map((e) => e - 1),
    counters,
    outputs,
    dram,
    scratchpads: sp,
    randomInputs,
    program,
  };
}
