/**
 * THE timing model of the units (docs/architecture.md sections 5-7): given
 * the cycle from which an instruction may start (dispatched and its tokens
 * there), where it starts and ends. The timing and fast engines evaluate it
 * per instruction in sim/schedule.ts (with fetch, queues and tokens); the
 * compiler's estimator evaluates the same model over its unit streams
 * (compiler/schedule.ts). The cycle engine (sim/cycle/) is an independent
 * structural model that must arrive at the same cycles.
 *
 *  - DMA (load, store units): in order, one instruction at a time:
 *      S = max(ready, end of the unit's previous instruction), E = S + cycles.
 *  - Vector (REQUANT, POOL, compute NOP): after all earlier compute work:
 *      S = max(ready, latest compute E), E = S + cycles.
 *  - Array (GEMM): passes of P pixels on an R x C array. Pass j preloads its
 *    R weight rows in T_j cycles at
 *      PL_j = max(S, PL_{j-1} + T_{j-1}, IS_{j-B} + P_{j-B} + H)  (B = weightBanks, 2 or 3)
 *    and issues its pixels from
 *      IS_j = max(PL_j + U_j, IS_{j-1} + P_{j-1}),
 *    across GEMMs; T = U = R, H = C (arch.bankHold); with config fastPreload a
 *    pass without tap packing has T = R/2 (two rows a cycle) and U = 1, and
 *    H = C + R/2 - 1 for every pass. S = max(ready, PL_prev + T_prev,
 *    IS_{-B} + P_{-B} + H, E of the latest vector instruction);
 *    E = IS_last + P + G (G = arch.gemmDepth = R + C + 2).
 *    Beside a REQUANT (the instruction right after a REQUANT with gemm_beside
 *    = 1, the only GEMM started while it runs): S >= S_rq + 1 instead of
 *    E_rq, and E >= E_rq + 1 (compute instructions complete in order, one a cycle).
 */
import type { DerivedArch } from '../arch/index.js';
import { UNITS, unitOf, type Instruction, type Machine } from '../isa/index.js';
import { instructionTiming, type OccupancyKind } from './ops/index.js';

/** Occupancy kind codes in typed arrays. */
export const OCC_DMA = 0;
export const OCC_VECTOR = 1;
export const OCC_ARRAY = 2;
export const OCC_FETCH = 3;
/** added to a kind code: Occupancy.beside (a REQUANT the next GEMM may start beside) */
export const OCC_BESIDE = 4;
/** added to a kind code: Occupancy.pairs (a GEMM whose passes preload two weight rows a cycle) */
export const OCC_PAIRS = 8;
/** the kind code, Occupancy.kind, of an occupancy code */
export const OCC_KIND_MASK = 3;

/** An instruction's occupancy code (kind plus flags), as `place` takes it. */
export const occupancyCode = (o: { kind: OccupancyKind; beside: boolean; pairs: boolean }): number =>
  OCCUPANCY_CODE[o.kind] + (o.beside ? OCC_BESIDE : 0) + (o.pairs ? OCC_PAIRS : 0);
export const OCCUPANCY_CODE: Readonly<Record<OccupancyKind, number>> = {
  dma: OCC_DMA,
  vector: OCC_VECTOR,
  array: OCC_ARRAY,
  fetch: OCC_FETCH,
};

/** Per-unit state of the timing model; `place` one instruction after another in each unit's order. */
export class UnitTimeline {
  /** results of the last `place` */
  start = 0;
  end = 0;

  private readonly dmaEnd = [0, 0, 0];
  private computeEnd = 0;
  /** end of the latest vector instruction (REQUANT, POOL, compute NOP) */
  private vectorEnd = 0;
  /** the latest compute instruction is a REQUANT with gemm_beside (start and end), else -1 */
  private requantStart = -1;
  private requantEnd = -1;
  /** PL + T of the previous pass (the WGT read port free) */
  private plFree = -Infinity;
  /** IS + P of the previous weightBanks passes, the latest first */
  private readonly isp: number[];

  constructor(private readonly arch: DerivedArch) {
    this.isp = new Array<number>(arch.weightBanks).fill(-Infinity);
  }

  /** The passes in `isp` issued `delta` apart. */
  private settled(delta: number): boolean {
    const isp = this.isp;
    for (let k = 1; k < isp.length; k++) if (isp[k - 1]! - isp[k]! !== delta) return false;
    return true;
  }

  /** Place `inst` (not HALT) by its module's timing, from cycle `ready`; sets start and end. */
  placeInstruction(inst: Instruction, m: Machine, ready: number): void {
    const u = unitOf(inst);
    const o = instructionTiming(inst, m);
    const code = occupancyCode(o);
    this.place(u === undefined ? -1 : UNITS.indexOf(u), code, o.cycles, o.passes, o.pixels, ready);
  }

  /**
   * Place an instruction of occupancy `kind` on `unit` (0 load, 1 compute,
   * 2 store) that may start from cycle `ready`: sets start and end.
   */
  place(unit: number, code: number, cycles: number, passes: number, pixels: number, ready: number): void {
    const kind = code & OCC_KIND_MASK;
    const beside = (code & OCC_BESIDE) !== 0; // a vector instruction the next GEMM may start beside
    if (kind === OCC_DMA) {
      const s = Math.max(ready, this.dmaEnd[unit]!);
      this.start = s;
      this.end = s + cycles;
      this.dmaEnd[unit] = this.end;
    } else if (kind === OCC_ARRAY) {
      this.placeGemm(ready, passes, pixels, this.requantStart >= 0, (code & OCC_PAIRS) !== 0);
    } else if (kind === OCC_VECTOR) {
      const s = Math.max(ready, this.computeEnd);
      this.start = s;
      this.end = s + cycles;
      this.computeEnd = this.end;
      this.vectorEnd = this.end;
      this.requantStart = beside ? s : -1;
      this.requantEnd = beside ? this.end : -1;
    } else {
      this.start = ready;
      this.end = ready + cycles;
    }
  }

  /** `beside`: it starts beside the REQUANT just placed (docs/architecture.md 7.3); `pairs`: two weight rows a cycle (7.2). */
  private placeGemm(ready: number, passes: number, P: number, beside: boolean, pairs: boolean): void {
    const { rows, bankHold } = this.arch;
    const isp = this.isp;
    const B = isp.length;
    const T = pairs ? rows / 2 : rows;
    const U = pairs ? 1 : rows;
    const after = beside ? this.requantStart + 1 : this.vectorEnd;
    const s = Math.max(ready, this.plFree, isp[B - 1]! + bankHold, after);
    let plFree = this.plFree;
    let plLast = -Infinity;
    for (let j = 0; j < passes; j++) {
      const pl = Math.max(s, plFree, isp[B - 1]! + bankHold);
      const is = Math.max(pl + U, isp[0]!);
      const delta = is + P - isp[0]!;
      // closed form once the pass recurrence has settled into a fixed period (the state shifted by delta)
      if (j >= B && j < passes - 1 && pl - plLast === delta && this.settled(delta)) {
        const rest = passes - 1 - j;
        const last = is + rest * delta;
        plFree = pl + rest * delta + T;
        for (let k = 0; k < B; k++) isp[k] = last + P - k * delta;
        break;
      }
      plLast = pl;
      plFree = pl + T;
      for (let k = B - 1; k > 0; k--) isp[k] = isp[k - 1]!;
      isp[0] = is + P;
    }
    this.plFree = plFree;
    this.start = s;
    const e = isp[0]! + this.arch.gemmDepth;
    this.end = beside ? Math.max(e, this.requantEnd + 1) : e;
    // a second GEMM after the REQUANT waits for its end (vectorEnd)
    this.requantStart = -1;
    if (this.end > this.computeEnd) this.computeEnd = this.end;
  }
}
