/** The four 16-bit dependency-token counters, as the cycle engine steps them. */
import { TOKEN_COUNTER_MAX } from '../../isa/index.js';
import type { PreparedProgram } from '../prepare.js';
import { tokenOverflowError } from '../schedule.js';

export class TokenCounters {
  /** load->compute, compute->load, compute->store, store->compute */
  readonly count = [0, 0, 0, 0];
  /** pushes of instructions retired this cycle: channel, instruction pairs */
  private readonly pending: number[] = [];

  constructor(private readonly p: PreparedProgram) {}

  /** Every channel instruction i pops holds a token. */
  available(i: number): boolean {
    const { pop0, pop1 } = this.p;
    return (pop0[i]! < 0 || this.count[pop0[i]!]! > 0) && (pop1[i]! < 0 || this.count[pop1[i]!]! > 0);
  }

  /** Instruction i starts: it takes its tokens. */
  pop(i: number): void {
    if (this.p.pop0[i]! >= 0) this.count[this.p.pop0[i]!]!--;
    if (this.p.pop1[i]! >= 0) this.count[this.p.pop1[i]!]!--;
  }

  /** Instruction i retires: its pushes land at the end of the cycle. */
  push(i: number): void {
    if (this.p.push0[i]! >= 0) this.pending.push(this.p.push0[i]!, i);
    if (this.p.push1[i]! >= 0) this.pending.push(this.p.push1[i]!, i);
  }

  /**
   * End of cycle: the pushes become visible. At most one push per channel per
   * cycle (one pushing unit per channel, one retire per cycle each).
   */
  commit(): void {
    const pending = this.pending;
    for (let k = 0; k < pending.length; k += 2) {
      const ch = pending[k]!;
      if (++this.count[ch]! > TOKEN_COUNTER_MAX) throw tokenOverflowError(ch, pending[k + 1]!);
    }
    pending.length = 0;
  }

  snapshot(): [number, number, number, number] {
    const c = this.count;
    return [c[0]!, c[1]!, c[2]!, c[3]!];
  }
}
