/**
 * Fetch and dispatch: one instruction per cycle from cycle 1, in order, into its unit's queue; HALT stops it.
 * With a streaming shell (bus.stream) a word is dispatched once the instruction ring holds it.
 */
import type { RingModel } from '../bus/index.js';
import { U_HALT } from '../prepare.js';
import type { CycleContext } from './context.js';

export type FetchState = 'idle' | 'dispatch' | 'stall';

export class FetchUnit {
  pc = 0;
  halted = false;
  /** the instruction dispatched this cycle (entering its queue at the end of the cycle), or -1 */
  dispatched = -1;
  state: FetchState = 'idle';

  private readonly ring: RingModel | undefined;

  constructor(private readonly ctx: CycleContext) {
    this.ring = ctx.bus?.ring;
  }

  /** Queue lengths as left by earlier cycles decide; returns whether fetch made progress. */
  step(t: number): boolean {
    const { p, queues } = this.ctx;
    const Q = [p.cfg.queues.load, p.cfg.queues.compute, p.cfg.queues.store];
    this.dispatched = -1;
    this.state = 'idle';
    if (t < 1 || this.halted || this.pc >= p.count) return false;
    // waiting for the ring counts as a stall, as the schedule engines' counters count every gap between dispatches;
    // the refill is in flight, so it is progress (not a deadlock)
    if (this.ring && this.ring.ready(this.pc, this.ctx.D) > t) {
      this.state = 'stall';
      return true;
    }
    const u = p.unit[this.pc]!;
    if (u !== U_HALT && queues[u]!.length >= Q[u]!) {
      this.state = 'stall';
      return false;
    }
    this.dispatched = this.pc;
    this.ctx.D[this.pc] = t;
    this.state = 'dispatch';
    if (u === U_HALT) {
      this.ctx.S[this.pc] = t;
      this.ctx.E[this.pc] = t + 1;
      this.halted = true;
    }
    this.pc++;
    return true;
  }

  /** End of cycle: the dispatched instruction enters its queue. */
  commit(): void {
    const i = this.dispatched;
    const u = i >= 0 ? this.ctx.p.unit[i]! : U_HALT;
    if (u !== U_HALT) this.ctx.queues[u]!.push(i);
  }
}
