/**
 * The LOAD unit and the DRAM read channel: a LOAD requests its rows one per
 * cycle from its start; row data arrives `dram.latency` cycles after its
 * request, one bus beat per cycle in order; an entry is written into its
 * buffer with its last beat. A NOP on this unit takes one cycle.
 */
import { BUF_INP, BUF_WGT, loadEntryBytes, type LoadInst } from '../../isa/index.js';
import { LoadTraffic } from '../bus/index.js';
import { loadEntries } from '../memory.js';
import { U_LOAD } from '../prepare.js';
import type { CycleBus, CycleContext } from './context.js';
import { DmaUnit } from './dma-unit.js';

export class LoadUnit extends DmaUnit {
  /** a read beat arrived this cycle (snapshot) */
  readBeat = false;

  private rowsRequested = 0;
  private readonly requestTime: number[] = [];
  private rowServed = 0;
  private entryInRow = 0;
  private beatInEntry = 0;
  private beats = 0;
  private entry = 0;
  private traffic: LoadTraffic | undefined;

  constructor(ctx: CycleContext) {
    super(ctx, U_LOAD, 'dma-read');
  }

  protected beginCycle(): void {
    this.readBeat = false;
  }

  protected beginInstruction(): void {
    this.rowsRequested = 0;
    this.requestTime.length = 0;
    this.rowServed = 0;
    this.entryInRow = 0;
    this.beatInEntry = 0;
    this.beats = 0;
    this.entry = 0;
    const bus = this.ctx.bus;
    const inst = this.ctx.p.code[this.inst]!;
    if (bus && inst.op === 'LOAD') this.traffic = new LoadTraffic(inst as LoadInst, bus.params);
  }

  protected transfer(t: number): void {
    if (this.ctx.bus) return this.busTransfer(t, this.ctx.bus);
    const { p, sp, dram, c } = this.ctx;
    const ld = p.code[this.inst] as LoadInst;
    const eb = loadEntryBytes(p.arch, ld.buf);
    const bpe = Math.ceil(eb / p.cfg.dram.busBytes);
    if (this.rowsRequested < ld.y_count) this.requestTime[this.rowsRequested++] = t;
    if (this.rowServed < this.rowsRequested && this.requestTime[this.rowServed]! + p.cfg.dram.latency <= t) {
      this.readBeat = true;
      this.beats++;
      if (++this.beatInEntry === bpe) {
        this.beatInEntry = 0;
        const off = ld.dram_addr + this.rowServed * ld.dram_stride + this.entryInRow * eb;
        loadEntries(sp, p.arch, ld.buf, dram, off, ld.sram_addr + this.entry, 1, ld.replicate);
        this.entry++;
        (ld.buf === BUF_INP ? c.sram.inp : ld.buf === BUF_WGT ? c.sram.wgt : c.sram.param).writes++;
        c.dram.readBytes += eb;
        if (++this.entryInRow === ld.x_count) {
          this.entryInRow = 0;
          this.rowServed++;
        }
      }
    }
    this.state = this.beats === 0 ? 'dram' : 'busy';
    if (this.beats === ld.x_count * ld.y_count * bpe) this.finish(t);
  }

  /** With the bus model: rows go to the shell's read path when it is ready, beats come back from it. */
  private busTransfer(t: number, bus: CycleBus): void {
    const tr = this.traffic!;
    const offer = tr.offer();
    if (offer) {
      bus.offer = offer;
      if (bus.read.ready) tr.accepted();
    }
    this.state = 'dram';
    if (!bus.read.coreBeat) return;
    this.readBeat = true;
    this.state = 'busy';
    const last = tr.beat();
    const { p, sp, dram, c } = this.ctx;
    const ld = p.code[this.inst] as LoadInst;
    const bpe = bus.params.entries[ld.buf]!.beats;
    if (tr.beats % bpe === 0) {
      const e = tr.beats / bpe - 1;
      const eb = loadEntryBytes(p.arch, ld.buf);
      const off = ld.dram_addr + Math.floor(e / ld.x_count) * ld.dram_stride + (e % ld.x_count) * eb;
      loadEntries(sp, p.arch, ld.buf, dram, off, ld.sram_addr + e, 1, ld.replicate);
      (ld.buf === BUF_INP ? c.sram.inp : ld.buf === BUF_WGT ? c.sram.wgt : c.sram.param).writes++;
      c.dram.readBytes += eb;
    }
    if (last) this.finish(t);
  }
}
