/**
 * What the core's LOAD and STORE units put on the shell's ports (the core's
 * side of rtl-gen's DRAM channels): a LOAD offers one request per row from its
 * start cycle and retires with its last beat; a STORE offers one beat per
 * cycle from the cycle after its start, each with its address, and retires on
 * the write response after its last beat. Shared by the bus schedule and the
 * cycle engine's LOAD and STORE units.
 */
import type { LoadInst, StoreInst } from '../../isa/index.js';
import type { DerivedArch } from '../../arch/index.js';
import type { BusParams } from './params.js';
import type { ReadRequest } from './read-path.js';

export class LoadTraffic {
  /** beats received so far */
  beats = 0;
  readonly totalBeats: number;
  private row = 0;
  private readonly rowBeats: number;
  private readonly size: number;

  constructor(
    private readonly ld: LoadInst,
    p: BusParams,
  ) {
    const e = p.entries[ld.buf]!;
    this.rowBeats = ld.x_count * e.beats;
    this.size = e.size;
    this.totalBeats = this.rowBeats * ld.y_count;
  }

  /** The row request offered this cycle, if rows are left. */
  offer(): ReadRequest | undefined {
    if (this.row >= this.ld.y_count) return undefined;
    return { addr: this.ld.dram_addr + this.row * this.ld.dram_stride, beats: this.rowBeats, size: this.size };
  }

  accepted(): void {
    this.row++;
  }

  /** A beat arrived; true when it was the LOAD's last. */
  beat(): boolean {
    return ++this.beats === this.totalBeats;
  }
}

/** Beats of a LOAD on the shell's bus (a narrow entry is one beat). */
export function loadBeats(ld: LoadInst, p: BusParams): number {
  return ld.x_count * ld.y_count * p.entries[ld.buf]!.beats;
}

/** Beats of a STORE on the shell's bus. */
export function storeBeats(st: StoreInst, p: BusParams): number {
  return st.x_count * st.y_count * p.entries[3]!.beats;
}

export class StoreTraffic {
  /** beats sent so far */
  sent = 0;
  readonly totalBeats: number;
  private readonly bpe: number;
  private readonly eb: number;
  private readonly busBytes: number;

  constructor(
    private readonly st: StoreInst,
    p: BusParams,
    arch: DerivedArch,
  ) {
    this.bpe = p.entries[3]!.beats;
    this.eb = arch.outEntryBytes;
    this.totalBeats = storeBeats(st, p);
    this.busBytes = p.busBytes;
  }

  get done(): boolean {
    return this.sent === this.totalBeats;
  }

  /** Bus address of the next beat. */
  address(): number {
    const e = Math.floor(this.sent / this.bpe);
    const row = Math.floor(e / this.st.x_count);
    const col = e % this.st.x_count;
    return this.st.dram_addr + row * this.st.dram_stride + col * this.eb + (this.sent % this.bpe) * this.busBytes;
  }

  get last(): boolean {
    return this.sent === this.totalBeats - 1;
  }

  fired(): void {
    this.sent++;
  }
}
