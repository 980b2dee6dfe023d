/**
 * The STORE unit and the DRAM write channel: OUT entry e is read at beat
 * boundaries into a two-entry buffer; write beat j goes out at cycle S + 1 + j
 * and an entry lands in DRAM with its last beat; the write response of the
 * last beat comes `dram.latency` cycles later. A NOP on this unit takes one cycle.
 */
import { packLanes, type StoreInst } from '../../isa/index.js';
import { StoreTraffic } from '../bus/index.js';
import { U_STORE } from '../prepare.js';
import type { CycleBus, CycleContext } from './context.js';
import { DmaUnit } from './dma-unit.js';

export class StoreUnit extends DmaUnit {
  /** a write beat went out this cycle (snapshot) */
  writeBeat = false;
  private readonly buffer: Uint8Array[];

  constructor(ctx: CycleContext) {
    super(ctx, U_STORE, 'dma-write');
    this.buffer = [new Uint8Array(ctx.p.arch.cols), new Uint8Array(ctx.p.arch.cols)];
  }

  protected beginCycle(): void {
    this.writeBeat = false;
  }

  private traffic: StoreTraffic | undefined;
  private waiting = false;

  protected beginInstruction(): void {
    const bus = this.ctx.bus;
    const inst = this.ctx.p.code[this.inst]!;
    if (bus && inst.op === 'STORE') this.traffic = new StoreTraffic(inst as StoreInst, bus.params, this.ctx.p.arch);
    this.waiting = false;
  }

  protected transfer(t: number): void {
    if (this.ctx.bus) return this.busTransfer(t, this.ctx.bus);
    const { p, sp, dram, c, S } = this.ctx;
    const st = p.code[this.inst] as StoreInst;
    const n = p.arch.cols;
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

  /**
   * With the bus model: from the cycle after the start, one beat per cycle
   * while the shell's write path is ready (an entry lands in DRAM with its
   * last beat); then the write response.
   */
  private busTransfer(t: number, bus: CycleBus): void {
    const { p, sp, dram, c, S } = this.ctx;
    const tr = this.traffic!;
    this.state = t === S[this.inst]! ? 'busy' : 'dram';
    if (this.waiting) {
      if (bus.write.response) this.finish(t);
      return;
    }
    if (t === S[this.inst]!) return;
    bus.wrote = true;
    if (!bus.write.cycle(t, true, tr.address(), tr.last)) return;
    this.writeBeat = true;
    this.state = 'busy';
    tr.fired();
    const st = p.code[this.inst] as StoreInst;
    const bpe = bus.params.entries[3]!.beats;
    if (tr.sent % bpe === 0) {
      const n = p.arch.cols;
      const e = tr.sent / bpe - 1;
      const eb = p.arch.outEntryBytes;
      const off = st.dram_addr + Math.floor(e / st.x_count) * st.dram_stride + (e % st.x_count) * eb;
      packLanes(
        sp.out.subarray((st.sram_addr + e) * n, (st.sram_addr + e + 1) * n),
        0,
        n,
        p.arch.activationBits,
        dram,
        off,
      );
      c.sram.out.reads++;
      c.dram.writeBytes += eb;
    }
    if (tr.done) this.waiting = true;
  }
}
