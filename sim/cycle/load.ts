/**
 * The LOAD unit and the DRAM read channel: a LOAD requests its rows one per
 * cycle from its start; row data arrives `dram.latency` cycles after its
 * request, one bus beat per cycle in order; an entry is written into its
 * buffer with its last beat. A NOP on this unit takes one cycle.
 */
import { assertNever } from '../../arch/index.js';
import { BUF_INP, BUF_WGT, loadEntryBytes, type LoadInst } from '../../isa/index.js';
import { loadEntries } from '../memory.js';
import { U_LOAD } from '../prepare.js';
import type { CycleContext, UnitState } from './context.js';

export class LoadUnit {
  /** the instruction in flight, or -1 */
  inst = -1;
  /** shown in the snapshot: the instruction active this cycle, its state, whether a read beat arrived */
  active = -1;
  state: UnitState = 'idle';
  readBeat = false;

  private rowsRequested = 0;
  private readonly requestTime: number[] = [];
  private rowServed = 0;
  private entryInRow = 0;
  private beatInEntry = 0;
  private beats = 0;
  private entry = 0;

  constructor(private readonly ctx: CycleContext) {}

  get busy(): boolean {
    return this.inst >= 0;
  }

  /** One cycle; returns whether the unit made progress. */
  step(t: number): boolean {
    const ctx = this.ctx;
    this.readBeat = false;
    this.active = -1;
    this.state = 'idle';
    let progress = false;
    if (this.inst < 0 && ctx.startable(U_LOAD) >= 0) {
      this.inst = ctx.start(U_LOAD, t);
      this.rowsRequested = 0;
      this.requestTime.length = 0;
      this.rowServed = 0;
      this.entryInRow = 0;
      this.beatInEntry = 0;
      this.beats = 0;
      this.entry = 0;
      progress = true;
    }
    if (this.inst < 0) {
      if (ctx.queues[U_LOAD]!.length > 0) this.state = 'token';
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
        this.dma(t, ctx.p.code[this.inst] as LoadInst);
        break;
      case 'dma-write':
      case 'array':
      case 'vector':
      case 'fetch':
        throw new Error(`internal error: instruction ${this.inst} (${b.unit}) in the load queue`);
      default:
        assertNever(b, 'cycle behaviour');
    }
    return true;
  }

  private dma(t: number, ld: LoadInst): void {
    const { p, sp, dram, c } = this.ctx;
    const eb = loadEntryBytes(p.arch, ld.buf);
    const bpe = Math.ceil(eb / p.cfg.dram.busBytes);
    if (this.rowsRequested < ld.y_count) this.requestTime[this.rowsRequested++] = t;
    if (this.rowServed < this.rowsRequested && this.requestTime[this.rowServed]! + p.cfg.dram.latency <= t) {
      this.readBeat = true;
      this.beats++;
      if (++this.beatInEntry === bpe) {
        this.beatInEntry = 0;
        const off = ld.dram_addr + this.rowServed * ld.dram_stride + this.entryInRow * eb;
        loadEntries(sp, p.arch, ld.buf, dram, off, ld.sram_addr + this.entry, 1);
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
    if (this.beats === ld.x_count * ld.y_count * bpe) {
      this.ctx.retire(this.inst, t);
      this.inst = -1;
    }
  }
}
