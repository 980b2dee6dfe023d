/**
 * The STORE unit and the DRAM write channel: OUT entry e is read at beat
 * boundaries into a two-entry buffer; write beat j goes out at cycle S + 1 + j
 * and an entry lands in DRAM with its last beat; the write response of the
 * last beat comes `dram.latency` cycles later. A NOP on this unit takes one cycle.
 */
import { assertNever } from '../../arch/index.js';
import { packLanes, type StoreInst } from '../../isa/index.js';
import { U_STORE } from '../prepare.js';
import type { CycleContext, UnitState } from './context.js';

export class StoreUnit {
  inst = -1;
  active = -1;
  state: UnitState = 'idle';
  writeBeat = false;
  private readonly buffer: Uint8Array[];

  constructor(private readonly ctx: CycleContext) {
    this.buffer = [new Uint8Array(ctx.p.arch.n), new Uint8Array(ctx.p.arch.n)];
  }

  get busy(): boolean {
    return this.inst >= 0;
  }

  step(t: number): boolean {
    const ctx = this.ctx;
    this.writeBeat = false;
    this.active = -1;
    this.state = 'idle';
    let progress = false;
    if (this.inst < 0 && ctx.startable(U_STORE) >= 0) {
      this.inst = ctx.start(U_STORE, t);
      progress = true;
    }
    if (this.inst < 0) {
      if (ctx.queues[U_STORE]!.length > 0) this.state = 'token';
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
      case 'dma-write':
        this.dma(t, ctx.p.code[this.inst] as StoreInst);
        break;
      case 'dma-read':
      case 'array':
      case 'vector':
      case 'fetch':
        throw new Error(`internal error: instruction ${this.inst} (${b.unit}) in the store queue`);
      default:
        assertNever(b, 'cycle behaviour');
    }
    return true;
  }

  private dma(t: number, st: StoreInst): void {
    const { p, sp, dram, c, S } = this.ctx;
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
    if (k === beats + p.cfg.dram.latency) {
      this.ctx.retire(this.inst, t);
      this.inst = -1;
    }
  }
}
