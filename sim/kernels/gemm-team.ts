/**
 * Both cores on one program: the main thread and one helper thread run the
 * fast engine's GEMMs. A GEMM is staged (its INP, WGT and ACC regions copied)
 * into the helper's shared kernel memory and runs there while the main thread
 * goes on with the next instructions: LOADs and STOREs (the staged GEMM has
 * its own copy of what it reads), REQUANTs of other ACC regions, and GEMMs of
 * its own while the helper is busy. An instruction that reads or writes the
 * ACC range of the GEMM in flight waits for it, and its result is copied back
 * first, so every memory holds what the one-thread run leaves there at every
 * point that can observe it: results and counters are identical (the
 * schedule, and so every counter, is computed before any data moves).
 */
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { SimError, type DerivedArch } from '../../arch/index.js';
import type { GemmInst, Instruction } from '../../isa/index.js';
import type { Scratchpads } from '../memory.js';
import {
  builtKernelFile,
  gemmArrayMacs,
  gemmKernelModule,
  GemmKernel,
  kernelTakes,
  newKernelMemory,
  sharedGemmKernel,
  STAGED_ARGS,
  type GemmCore,
  type StagedGemm,
} from './gemm-kernel.js';
import { ARGS_AT, CONTROL_INTS, DEAD, DONE, ERROR, IDLE, JOB, SPINS, STARTING, STATE } from './gemm-protocol.js';

/** node:worker_threads, loaded by the first team: the timing engine and one-thread runs never need it (start-up time). */
function workerThreads(): typeof import('node:worker_threads') {
  return createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
}

/** ACC entries [lo, hi) an instruction reads or writes (none: lo === hi). */
function accRange(inst: Instruction): [number, number] {
  if (inst.op === 'GEMM') return [inst.acc_addr, inst.acc_addr + inst.out_h * inst.out_w];
  if (inst.op === 'REQUANT') return [inst.acc_addr, inst.acc_addr + inst.in_h * inst.in_w];
  return [0, 0];
}

/** GEMMs below this many array MACs stay on the main thread: handing one over costs about as much as running it. */
export const HANDOFF_MIN_MACS = 256 * 1024;

/** How long the main thread waits for one GEMM before calling the helper lost (a GEMM takes milliseconds). */
const HELPER_TIMEOUT_MS = 120_000;

export class GemmTeam implements GemmCore {
  private readonly ctl: Int32Array;
  /** the main thread's own kernel, and its view of the helper's memory (for staging) */
  private readonly staging: GemmKernel;
  private inFlight: { s: StagedGemm; sp: Scratchpads; lo: number; hi: number } | undefined;
  private readonly worker: Worker;
  /** GEMMs the helper thread ran, since the team was made */
  helped = 0;
  /** smaller GEMMs stay on the main thread (tests set 0 to hand over every GEMM the kernel takes) */
  handoffMinMacs = HANDOFF_MIN_MACS;

  constructor(
    module: WebAssembly.Module,
    workerFile: string,
    private readonly own: GemmKernel,
  ) {
    const memory = newKernelMemory();
    this.staging = new GemmKernel(module, memory);
    this.ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    this.worker = new (workerThreads().Worker)(workerFile, {
      workerData: { module, memory, control: this.ctl.buffer },
    });
    // the helper never keeps the process alive; it sleeps on the control word between runs
    this.worker.unref();
  }

  /** Copy the finished GEMM's ACC back; wait for it first when it is still running. */
  private complete(): void {
    const f = this.inFlight;
    if (!f) return;
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    let s = Atomics.load(this.ctl, STATE);
    for (let i = 0; s === JOB && i < SPINS; i++) s = Atomics.load(this.ctl, STATE);
    while (s === JOB) {
      if (Date.now() > deadline)
        throw new SimError('the GEMM helper thread did not answer within 120 s', 'fast engine');
      Atomics.wait(this.ctl, STATE, JOB, 1000);
      s = Atomics.load(this.ctl, STATE);
    }
    this.inFlight = undefined;
    if (s !== DONE) {
      throw new Error(
        `the GEMM helper thread ${s === ERROR ? 'failed on a GEMM' : s === DEAD ? 'exited' : `is in state ${s}`}`,
      );
    }
    this.staging.unstage(f.s, f.sp);
    Atomics.store(this.ctl, STATE, IDLE);
  }

  before(inst: Instruction): void {
    const f = this.inFlight;
    if (!f) return;
    const [lo, hi] = accRange(inst);
    if (lo < f.hi && f.lo < hi) this.complete();
  }

  gemm(g: GemmInst, sp: Scratchpads, a: DerivedArch): boolean {
    this.before(g);
    if (this.inFlight && Atomics.load(this.ctl, STATE) !== JOB) this.complete();
    // a small GEMM, or the helper is busy (or still starting): the main thread runs this one itself
    if (
      !kernelTakes(g, a) ||
      gemmArrayMacs(g, a) < this.handoffMinMacs ||
      this.inFlight ||
      Atomics.load(this.ctl, STATE) !== IDLE
    )
      return this.own.gemm(g, sp, a);
    const s = this.staging.stage(g, sp, a);
    if (!s) return this.own.gemm(g, sp, a);
    this.ctl.set(s.args.subarray(0, STAGED_ARGS), ARGS_AT);
    const [lo, hi] = accRange(g);
    this.inFlight = { s, sp, lo, hi };
    this.helped++;
    Atomics.store(this.ctl, STATE, JOB);
    Atomics.notify(this.ctl, STATE);
    return true;
  }

  finish(): void {
    this.complete();
  }

  /** The helper has started and can take GEMMs (tests wait for this before they compare). */
  get ready(): boolean {
    const s = Atomics.load(this.ctl, STATE);
    return s !== STARTING && s !== DEAD;
  }
}

let team: GemmTeam | null | undefined;

/** One team per process (its helper thread is reused by every run), or undefined when the kernel or the helper's file is missing. */
export function sharedGemmTeam(module: WebAssembly.Module, own: GemmKernel): GemmTeam | undefined {
  if (team === undefined) {
    const file = builtKernelFile('gemm-worker.js');
    team = file ? new GemmTeam(module, file, own) : null;
  }
  return team ?? undefined;
}

/**
 * The fast engine's GEMM core for a program: the kernel alone (the default), a team of two threads (threads >= 2),
 * or undefined (no kernel built). One thread is the default because compiled programs chain their GEMMs: most
 * accumulate into the ACC range of the GEMM before them (VGG-16: 17,897 of 20,068), so the main thread waits for
 * the helper at almost every GEMM, and handing over (staging copies, a wake-up) made the run slower in wall and
 * CPU time on every zoo network (docs/performance.md).
 */
export function fastEngineGemmCore(threads: number | undefined): GemmCore | undefined {
  const own = sharedGemmKernel();
  if (!own) return undefined;
  if ((threads ?? 1) < 2) return own;
  return sharedGemmTeam(gemmKernelModule()!, own) ?? own;
}
