/**
 * What the LOAD and STORE units (load.ts, store.ts) have in common: one
 * instruction at a time from their queue, a NOP taking one cycle, and the
 * per-cycle state the counters and snapshots show.
 */
import { assertNever } from '../../arch/index.js';
import type { CycleContext, UnitState } from './context.js';

export abstract class DmaUnit {
  /** the instruction in flight, or -1 */
  inst = -1;
  /** the instruction active this cycle (snapshot), or -1 */
  active = -1;
  state: UnitState = 'idle';

  protected constructor(
    protected readonly ctx: CycleContext,
    private readonly unit: number,
    private readonly kind: 'dma-read' | 'dma-write',
  ) {}

  get busy(): boolean {
    return this.inst >= 0;
  }

  /** One cycle; returns whether the unit made progress. */
  step(t: number): boolean {
    const ctx = this.ctx;
    this.active = -1;
    this.state = 'idle';
    this.beginCycle();
    let progress = false;
    if (this.inst < 0 && ctx.startable(this.unit) >= 0) {
      this.inst = ctx.start(this.unit, t);
      this.beginInstruction();
      progress = true;
    }
    if (this.inst < 0) {
      if (ctx.queues[this.unit]!.length > 0) this.state = 'token';
      return progress;
    }
    this.active = this.inst;
    const b = ctx.behaviour(this.inst);
    switch (b.unit) {
      case 'token':
        this.state = 'busy';
        ctx.retire(this.inst, t);
        this.inst = -1;
        break;
      case 'dma-read':
      case 'dma-write':
        if (b.unit !== this.kind) throw this.misplaced(b.unit);
        this.transfer(t);
        break;
      case 'array':
      case 'vector':
      case 'fetch':
        throw this.misplaced(b.unit);
      default:
        assertNever(b, 'cycle behaviour');
    }
    return true;
  }

  /** Reset what the snapshot shows of this cycle. */
  protected abstract beginCycle(): void;
  /** A new instruction starts: reset its progress. */
  protected abstract beginInstruction(): void;
  /** One cycle of the DMA instruction in flight; retires it on its last cycle. */
  protected abstract transfer(t: number): void;

  protected finish(t: number): void {
    this.ctx.retire(this.inst, t);
    this.inst = -1;
  }

  private misplaced(unit: string): Error {
    return new Error(`internal error: instruction ${this.inst} (${unit}) in the ${this.kind} unit's queue`);
  }
}
