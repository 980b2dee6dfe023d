/**
 * [flatten] `dense` requant -> a ConvOp whose kernel covers the whole H x W of
 * the (possibly flattened) input: dense weights [out][c*H*W + h*W + w]
 * already are [co][ci][kh][kw], so nothing moves.
 *
 * A map wider than a kernel window can be (the 4-bit kernel_w field, and one
 * row of N-entry weight tiles in half of WGT) is read as C x H' x W' with W'
 * the widest divisor of H*W that fits (the same linear order, see
 * TensorView), so its kernel windows are full-width bands of rows. Windows
 * cut across columns would start a GEMM at a column offset, and the GEMM's
 * INP tile (in_h x in_w from inp_addr) would then reach past the band by
 * that offset: past the buffer when the band ends at the top of INP.
 */
import type { DenseLayer } from '../../models/index.js';
import { ISA_LIMITS } from '../conv-op.js';
import { lowerAccumulatorOp } from './accumulator-op.js';
import type { LayerLowering } from './lowering.js';

/** The widest row W' <= max with W' dividing `pixels`. */
function viewWidth(pixels: number, max: number): number {
  for (let w = max; w > 1; w--) if (pixels % w === 0) return w;
  return 1;
}

export const denseLowering: LayerLowering<DenseLayer> = {
  lower(info, step) {
    const lw = step.lw;
    lw.checkAccumulator(info);
    let src = step.flow.tensor;
    const n = lw.cfg.array.rows;
    const wgt = lw.cfg.scratchpad.weightEntries;
    const maxW = Math.min(ISA_LIMITS.kernel, Math.max(1, Math.floor(wgt / 2 / n) || Math.floor(wgt / n)));
    if (src.w > maxW) {
      const w = viewWidth(src.h * src.w, maxW);
      src = lw.view(src, (src.h * src.w) / w, w);
    }
    const terms = [{ src, ci: src.c, kh: src.h, kw: src.w, sh: 1, sw: 1, ph: 0, pw: 0, weights: info.layer.weights }];
    return lowerAccumulatorOp(info, step, terms, true);
  },
};
