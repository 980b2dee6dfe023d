/**
 * The ConvOp of a layer that produces accumulators (conv2d, dense, residual):
 * its terms are GEMMed into ACC, then the layers that must follow it become
 * the op's REQUANT:
 *   accumulators -> [maxpool | flatten of a 1x1 map]* -> requant -> [maxpool]
 * One pool is fused into the REQUANT (the first before the requant, else the
 * one right after it); requant is monotone per channel, so pool(requant(x)) ==
 * requant(pool(x)) exactly, and further pools before the requant run on its
 * activations as identity pool ops (maxpool.ts).
 */
import { CompileError } from '../../arch/index.js';
import type { LayerInfo, LayerInfoOf, MaxPoolLayer, RequantLayer } from '../../models/index.js';
import type { ConvTerm } from '../conv-op.js';
import type { ChainStep, StepResult } from './lowering.js';
import { isIdentityPool, lowerActivationPool } from './maxpool.js';

const FLATTEN_OF_ACCUMULATORS =
  'flatten of accumulators between a conv and its requant is only supported for 1x1 maps: move the flatten after the requant';

/** The error for a flatten of a wider accumulator map (also raised by the flatten rule itself). */
export function flattenOfAccumulators(where: string): CompileError {
  return new CompileError(FLATTEN_OF_ACCUMULATORS, where);
}

/** The pools between an accumulator layer at `at` and its requant, and the requant's index. */
function poolsBeforeRequant(info: LayerInfo, step: ChainStep): { pools: LayerInfoOf<MaxPoolLayer>[]; rq: number } {
  const { infos, at } = step;
  const pools: LayerInfoOf<MaxPoolLayer>[] = [];
  let j = at + 1;
  for (; j < infos.length; j++) {
    const next = infos[j]!;
    if (next.layer.kind === 'maxpool') {
      if (!isIdentityPool(next)) pools.push(next as LayerInfoOf<MaxPoolLayer>);
    } else if (next.layer.kind !== 'flatten') break;
    else if (next.input.shape.h * next.input.shape.w > 1) throw flattenOfAccumulators(next.where);
  }
  const rq = infos[j];
  if (!rq || rq.layer.kind !== 'requant') {
    const layer = info.layer;
    throw new CompileError(
      rq
        ? `${layer.kind} is followed by ${rq.layer.kind} '${rq.layer.name}': the machine needs a requant to turn its accumulators into activations (max pools may come between)`
        : `${layer.kind} ends the network with accumulators: the machine needs a requant after it (max pools may come between), so the network must end with activations`,
      info.where,
    );
  }
  return { pools, rq: j };
}

/** Lowers `info` (whose terms the caller built) and the requant and pools after it to one ConvOp. */
export function lowerAccumulatorOp(info: LayerInfo, step: ChainStep, terms: ConvTerm[], dense: boolean): StepResult {
  const { lw, infos } = step;
  const layer = info.layer;
  step.addMacs(info.macs);
  const { pools, rq: rqIndex } = poolsBeforeRequant(info, step);
  const rq = infos[rqIndex] as LayerInfoOf<RequantLayer>;
  const rql = rq.layer;
  lw.checkActivationWidth(rq.where, rql.bits, 'the requant output');
  let next = rqIndex + 1;
  let fused: LayerInfoOf<MaxPoolLayer> | undefined = pools[0];
  if (!fused && next < infos.length && infos[next]!.layer.kind === 'maxpool' && !isIdentityPool(infos[next]!)) {
    fused = infos[next++] as LayerInfoOf<MaxPoolLayer>;
  }
  let poolK = 1;
  let poolS = 1;
  if (fused) {
    lw.checkPool(fused.where, fused.layer.kernel, fused.layer.stride);
    poolK = fused.layer.kernel;
    poolS = fused.layer.stride;
  }
  const deferred = pools.slice(1);
  const convShape = info.output.shape;
  const out = (fused ?? rq).output.shape;
  // with deferred pools the op's result is an intermediate (named after the fused pool)
  const dstIndex = deferred.length ? infos.indexOf(fused!) : next - 1;
  const dst = lw.resultTensor(step, dstIndex, out, rql.signed, rql.bits);
  lw.addOp({
    group: step.group,
    name: layer.name,
    where: info.where,
    terms,
    co: convShape.c,
    oh: convShape.h,
    ow: convShape.w,
    poolK,
    poolS,
    poh: out.h,
    pow: out.w,
    bias: rql.bias,
    shift: rql.shift,
    outSigned: rql.signed,
    outBits: rql.bits,
    dst,
    dense,
  });
  let result = dst;
  deferred.forEach((p, k) => {
    const last = k === deferred.length - 1;
    result = lowerActivationPool(step, p, result, last ? next - 1 : infos.indexOf(p));
  });
  return { flow: { tensor: result, flat: false }, next };
}
