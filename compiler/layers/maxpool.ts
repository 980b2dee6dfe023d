/**
 * `maxpool` of activations not fused into a conv's REQUANT (on the network
 * input, after another pool) -> an identity 1x1 ConvOp whose REQUANT pools,
 * with bias 0, shift 0 and the input's range.
 */
import { CompileError } from '../../arch/index.js';
import type { LayerInfo, LayerInfoOf, MaxPoolLayer } from '../../models/index.js';
import type { ActTensor } from '../conv-op.js';
import { passThrough, type ChainStep, type LayerLowering } from './lowering.js';

/** A pool that returns its input: a 1x1 window at stride 1, or on a 1x1 map (e.g. after a dense layer). */
export function isIdentityPool(pool: LayerInfo): boolean {
  const p = pool.layer as MaxPoolLayer;
  const s = pool.input.shape;
  return p.kernel === 1 && (p.stride === 1 || (s.h === 1 && s.w === 1));
}

/**
 * The identity ConvOp pooling the activations `src` (already materialized)
 * as `pool` does; its result is the tensor of chain index `dstIndex`. Also
 * used for the second and later pools between a conv and its requant: requant
 * is monotone per channel, so those pools may run on its activations instead.
 */
export function lowerActivationPool(
  step: ChainStep,
  pool: LayerInfoOf<MaxPoolLayer>,
  src: ActTensor,
  dstIndex: number,
): ActTensor {
  const { lw, group } = step;
  const layer = pool.layer;
  lw.checkPool(pool.where, layer.kernel, layer.stride);
  lw.checkActivationWidth(pool.where, src.bits, 'the pooled activation');
  const out = pool.output.shape;
  const dst = lw.resultTensor(step, dstIndex, out, src.signed, src.bits);
  lw.addOp({
    group,
    name: layer.name,
    where: pool.where,
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
  return dst;
}

export const maxpoolLowering: LayerLowering<MaxPoolLayer> = {
  lower(info, step) {
    const layer = info.layer;
    step.lw.checkPool(info.where, layer.kernel, layer.stride);
    if (info.input.kind !== 'act') {
      // unreachable from the chain walk: a conv's rule consumes the pools of its accumulators
      throw new CompileError('max pool of accumulators must follow a conv2d, dense or residual', info.where);
    }
    if (isIdentityPool(info)) return passThrough(info, step);
    const src = step.lw.materialize(step.flow, step.group, info.where, `${layer.name}.flatten`);
    const dst = lowerActivationPool(step, info, src, step.at);
    return { flow: { tensor: dst, flat: false }, next: step.at + 1 };
  },
};
