/**
 * The COMPUTE unit's REQUANT / POOL pipeline (docs/architecture.md 7.3): a
 * windowed vector instruction reads one entry per cycle after its set-up
 * cycles (REQUANT first reads its PARAM entry), keeps a running per-lane max
 * over each window when the data arrives a cycle later, and writes a finished
 * window's lanes to OUT after the instruction's pipeline latency. What the
 * lanes compute comes from the instruction's module (sim/ops/<op>.ts). A NOP
 * on the compute unit takes one cycle.
 */
import { assertNever } from '../../arch/index.js';
import type { VectorBehaviour, VectorLanes } from '../ops/index.js';
import { U_COMPUTE } from '../prepare.js';
import { OCC_BESIDE } from '../timing.js';
import type { CycleContext } from './context.js';

interface Running {
  inst: number;
  /** undefined: a NOP */
  vector: VectorBehaviour<unknown> | undefined;
  lanes: VectorLanes | undefined;
  entries: Int32Array;
  window: number;
  latency: number;
  outBase: number;
  written: number;
}

export class VectorUnit {
  /** shown in the snapshot: an OUT write this cycle */
  outWrite = false;

  private run: Running | undefined;
  private readonly max: Float64Array;
  /** index of the read issued last cycle, or -1 */
  private readReg = -1;
  private readonly writes: { cycle: number; entry: number; lanes: Uint8Array }[] = [];

  constructor(private readonly ctx: CycleContext) {
    this.max = new Float64Array(ctx.p.arch.cols);
  }

  get busy(): boolean {
    return this.run !== undefined;
  }

  get inst(): number {
    return this.run ? this.run.inst : -1;
  }

  /** What runs lets the next GEMM start beside it (a REQUANT with gemm_beside: Occupancy.beside). */
  get besideable(): boolean {
    return this.run !== undefined && (this.ctx.p.occupancy[this.run.inst]! & OCC_BESIDE) !== 0;
  }

  /**
   * Start the compute queue head if it is not a GEMM and all earlier compute
   * work is done (`arrayIdle`); returns whether it started.
   */
  tryStart(t: number, arrayIdle: boolean): boolean {
    const ctx = this.ctx;
    const head = ctx.startable(U_COMPUTE);
    if (this.run || !arrayIdle || head < 0) return false;
    const b = ctx.behaviour(head);
    if (b.unit === 'array') return false;
    const i = ctx.start(U_COMPUTE, t);
    this.readReg = -1;
    this.writes.length = 0;
    const inst = ctx.p.code[i]!;
    switch (b.unit) {
      case 'token':
        this.run = {
          inst: i,
          vector: undefined,
          lanes: undefined,
          entries: new Int32Array(0),
          window: 1,
          latency: 0,
          outBase: 0,
          written: 0,
        };
        break;
      case 'vector': {
        const { entries, size, outFirst: outBase } = b.vector.windows(inst);
        const latency = b.vector.latency(inst, ctx.p.cfg);
        this.run = { inst: i, vector: b.vector, lanes: undefined, entries, window: size, latency, outBase, written: 0 };
        break;
      }
      case 'dma-read':
      case 'dma-write':
      case 'fetch':
        throw new Error(`internal error: instruction ${i} (${b.unit}) in the compute queue`);
      default:
        assertNever(b, 'cycle behaviour');
    }
    return true;
  }

  /** One cycle of the running instruction. */
  step(t: number): void {
    this.outWrite = false;
    const run = this.run;
    if (!run) return;
    const ctx = this.ctx;
    const k = t - ctx.S[run.inst]!;
    const v = run.vector;
    if (!v) {
      ctx.retire(run.inst, t);
      this.run = undefined;
      return;
    }
    const { sp, c } = ctx;
    const n = ctx.p.arch.cols;
    const src = v.source === 'acc' ? sp.acc : sp.out;
    if (k === 0) {
      run.lanes = v.start(ctx.p.code[run.inst]!, {
        sp,
        lanes: n,
        activationBits: ctx.p.arch.activationBits,
        counters: c,
      });
    }
    const lanes = run.lanes!;
    // data of last cycle's read arrives: running max; a finished window enters the pipeline
    if (this.readReg >= 0) {
      const idx = this.readReg;
      const base = run.entries[idx]! * n;
      if (idx % run.window === 0) this.max.fill(-Infinity);
      for (let l = 0; l < n; l++) {
        const x = lanes.lane(src[base + l]!);
        if (x > this.max[l]!) this.max[l] = x;
      }
      if (idx % run.window === run.window - 1) {
        const out = new Uint8Array(n);
        lanes.output(this.max, out);
        this.writes.push({ cycle: t + run.latency, entry: run.outBase + Math.floor(idx / run.window), lanes: out });
      }
      this.readReg = -1;
    }
    const r = k - v.setup;
    if (r >= 0 && r < run.entries.length) {
      this.readReg = r;
      c.sram[v.source].reads++;
    }
    while (this.writes.length > 0 && this.writes[0]!.cycle === t) {
      const w = this.writes.shift()!;
      sp.out.set(w.lanes, w.entry * n);
      c.sram.out.writes++;
      this.outWrite = true;
      run.written++;
    }
    if (run.written === run.entries.length / run.window) {
      ctx.retire(run.inst, t);
      this.run = undefined;
    }
  }
}
