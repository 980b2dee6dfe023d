/**
 * `maxpool` of activations not fused into a conv's REQUANT (on the network
 * input, after another pool) -> an identity 1x1 ConvOp whose REQUANT pools,
 * with bias 0, shift 0 and the input's range.
 */
import { CompileError } from '../../arch/index.js';
import type { MaxPoolLayer } from '../../models/index.js';
import type { LayerLowering } from './lowering.js';

export const maxpoolLowering: LayerLowering<MaxPoolLayer> = {
  lower(info, step) {
    const { lw, group } = step;
    const layer = info.layer;
    lw.checkPool(info.where, layer.kernel, layer.stride);
    if (info.input.kind !== 'act') {
      throw new CompileError('max pool of accumulators must be followed by a requant', info.where);
    }
    const src = lw.materialize(step.flow, group, info.where, `${layer.name}.flatten`);
    lw.checkActivationWidth(info.where, src.bits, 'the pooled activation');
    const out = info.output.shape;
    const dst = lw.resultTensor(step, step.at, out, src.signed, src.bits);
    lw.addOp({
      group,
      name: layer.name,
      where: info.where,
      terms: [{ src, ci: src.c, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, weights: lw.identityWeights(src.c) }],
      co: src.c,
      oh: src.h,
      ow: src.w,
      poolK: layer.kernel,
      poolS: layer.stride,
      poh: out.h,
      pow: out.w,
      bias: new Int32Array(src.c),
      shift: new Int8Array(src.c),
      outSigned: src.signed,
      outBits: src.bits,
      dst,
      dense: false,
    });
    return { flow: { tensor: dst, flat: false }, next: step.at + 1 };
  },
};
