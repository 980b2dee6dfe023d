/**
 * [flatten] `dense` requant -> a ConvOp whose kernel covers the whole H x W of
 * the (possibly flattened) input: dense weights [out][c*H*W + h*W + w]
 * already are [co][ci][kh][kw], so nothing moves. (How a map wider than a
 * kernel window is read is the tiling's choice: compiler/tiling.ts.)
 */
import type { DenseLayer } from '../../models/index.js';
import { lowerAccumulatorOp } from './accumulator-op.js';
import type { LayerLowering } from './lowering.js';

export const denseLowering: LayerLowering<DenseLayer> = {
  lower(info, step) {
    step.lw.checkAccumulator(info);
    const src = step.flow.tensor;
    const terms = [{ src, ci: src.c, kh: src.h, kw: src.w, sh: 1, sw: 1, ph: 0, pw: 0, weights: info.layer.weights }];
    return lowerAccumulatorOp(info, step, terms, true);
  },
};
