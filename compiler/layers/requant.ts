/** `requant` on its own: the machine only requantizes the accumulators of the op before it (see accumulator-op.ts). */
import { CompileError } from '../../arch/index.js';
import type { RequantLayer } from '../../models/index.js';
import type { LayerLowering } from './lowering.js';

export const requantLowering: LayerLowering<RequantLayer> = {
  lower(info) {
    throw new CompileError(
      'a requant must directly follow a conv2d, dense or residual (or a max pool of one)',
      info.where,
    );
  },
};
