/**
 * The INP-read counter of a GEMM (sim/ops/gemm.ts gemmInpReads, counted with
 * intervals) against a per-pixel count of the same rule, on random GEMM shapes,
 * ordinary and tap-packed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gemmBlocks, gemmPassCount, passRowTaps, type GemmInst } from '../../isa/index.js';
import { gemmInpReads } from '../../sim/ops/index.js';

/** The rule pixel by pixel: a (pass, pixel) reads INP when the input of one of its row taps is inside the tile. */
function perPixel(g: GemmInst, rows: number): number {
  const inY = (oy: number, kh: number) => {
    const iy = oy * g.stride_h + kh - g.pad_top;
    return iy >= 0 && iy < g.in_h;
  };
  const inX = (ox: number, kw: number) => {
    const ix = ox * g.stride_w + kw - g.pad_left;
    return ix >= 0 && ix < g.in_w;
  };
  let total = 0;
  const passes = gemmPassCount(g, rows) / gemmBlocks(g);
  for (let q = 0; q < passes; q++) {
    const taps = [...new Set(passRowTaps(g, rows, q))].filter((t) => t >= 0);
    for (let oy = 0; oy < g.out_h; oy++)
      for (let ox = 0; ox < g.out_w; ox++)
        if (taps.some((t) => inY(oy, Math.floor(t / g.kernel_w)) && inX(ox, t % g.kernel_w))) total++;
  }
  return g.taps ? total : total * g.ci_blocks;
}

const gemmArb = fc.record({
  in_h: fc.integer({ min: 1, max: 12 }),
  in_w: fc.integer({ min: 1, max: 12 }),
  out_h: fc.integer({ min: 1, max: 12 }),
  out_w: fc.integer({ min: 1, max: 12 }),
  kernel_h: fc.integer({ min: 1, max: 7 }),
  kernel_w: fc.integer({ min: 1, max: 7 }),
  stride_h: fc.integer({ min: 1, max: 4 }),
  stride_w: fc.integer({ min: 1, max: 4 }),
  pad_top: fc.integer({ min: 0, max: 7 }),
  pad_left: fc.integer({ min: 0, max: 7 }),
  taps: fc.integer({ min: 0, max: 1 }),
  lanes: fc.constantFrom(1, 2, 3, 4, 8),
  rows: fc.constantFrom(4, 8, 16),
});

describe('gemmInpReads', () => {
  it('counts what a per-pixel check counts', () => {
    fc.assert(
      fc.property(gemmArb, ({ lanes, rows, ...f }) => {
        // tap-packed: ci_blocks is the lanes per tap (at most the rows)
        const g = { ...f, ci_blocks: f.taps ? Math.min(lanes, rows) : lanes } as unknown as GemmInst;
        expect(gemmInpReads(g, rows)).toBe(perPixel(g, rows));
      }),
      { numRuns: 500 },
    );
  });
});
