/**
 * The STORE unit and the DRAM write channel: OUT entry e is read at beat
 * boundaries into a two-entry buffer; write beat j goes out at cycle S + 1 + j
 * and an entry lands in DRAM with its last beat; the write response of the
 * last beat comes `dram.latency` cycles later. A NOP on this unit takes one cycle.
 */
import { packLanes, type StoreInst } from '../../isa/index.js';
import { U_STORE } from '../prepare.js';
import type { CycleContext } from './context.js';
import { DmaUnit } from './dma-unit.js';

export class StoreUnit extends DmaUnit {
  /** a write beat went out this cycle (snapshot) */
  writeBeat = false;
  private readonly buffer: Uint8Array[];

  constructor(ctx: CycleContext) {
    super(ctx, U_STORE, 'dma-write');
    this.buffer = [new Uint8Array(ctx.p.arch.n), new Uint8Array(ctx.p.arch.n)];
  }

  protected beginCycle(): void {
    this.writeBeat = false;
  }

  protected beginInstruction(): void {}

  protected transfer(t: number): void {
    const { p, sp, dram, c, S } = this.ctx;
    const st = p.code[this.inst] as StoreInst;
    const n = p.arch.n;
    const eb = p.arch.outEntryBytes;
    const bpe = Math.ceil(eb / p.cfg.dram.busBytes);
    const beats = st.x_count * st.y_count * bpe;
    const k = t - S[this.inst]!;
    if (k >= 1 && k <= beats) {
      // beat j = k - 1; the entry lands in DRAM with its last beat
      this.writeBeat = true;
      const j = k - 1;
      if ((j + 1) % bpe === 0) {
        const e = (j + 1) / bpe - 1;
        const row = Math.floor(e / st.x_count);
        const col = e % st.x_count;
        const off = st.dram_addr + row * st.dram_stride + col * eb;
        packLanes(this.buffer[e & 1]!, 0, n, p.arch.activationBits, dram, off);
        c.dram.writeBytes += eb;
      }
    }
    if (k < beats && k % bpe === 0) {
      const e = k / bpe;
      this.buffer[e & 1]!.set(sp.out.subarray((st.sram_addr + e) * n, (st.sram_addr + e + 1) * n));
      c.sram.out.reads++;
    }
    this.state = k <= beats ? 'busy' : 'dram';
    if (k === beats + p.cfg.dram.latency) this.finish(t);
  }
}
