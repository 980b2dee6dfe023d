/** `conv2d` [maxpool] requant [maxpool] -> one ConvOp with one conv term, the pool fused into REQUANT. */
import type { Conv2dLayer } from '../../models/index.js';
import { lowerAccumulatorOp } from './accumulator-op.js';
import type { LayerLowering } from './lowering.js';

export const conv2dLowering: LayerLowering<Conv2dLayer> = {
  lower(info, step) {
    const terms = [step.lw.convTerm(info, step.flow, step.group)];
    return lowerAccumulatorOp(info, step, terms, false);
  },
};
