/**
 * The ConvOp of a layer that produces accumulators (conv2d, dense, residual):
 * its terms are GEMMed into ACC, then the layers that must follow it become
 * the op's REQUANT:
 *   accumulators -> [flatten of a 1x1 map]* -> [maxpool] -> requant -> [maxpool]
 * (at most one pool is fused; requant is monotone per channel, so
 * pool(requant(x)) == requant(pool(x)) exactly).
 */
import { CompileError } from '../../arch/index.js';
import type { LayerInfo, MaxPoolLayer, RequantLayer, ValueInfo } from '../../models/index.js';
import type { ConvTerm } from '../conv-op.js';
import type { ChainStep, StepResult } from './lowering.js';

const FLATTEN_OF_ACCUMULATORS =
  'flatten of accumulators between a conv and its requant is only supported for 1x1 maps: move the flatten after the requant';

/** The error for a flatten of a wider accumulator map (also raised by the flatten rule itself). */
export function flattenOfAccumulators(where: string): CompileError {
  return new CompileError(FLATTEN_OF_ACCUMULATORS, where);
}

/** Lowers `info` (whose terms the caller built) and the requant and pools after it to one ConvOp. */
export function lowerAccumulatorOp(info: LayerInfo, step: ChainStep, terms: ConvTerm[], dense: boolean): StepResult {
  const { lw, infos, at } = step;
  const layer = info.layer;
  step.addMacs(info.macs);
  const acc = info.output;
  let poolK = 1;
  let poolS = 1;
  let j = at + 1;
  const takePool = (pinfo: LayerInfo) => {
    const p = pinfo.layer as MaxPoolLayer;
    lw.checkPool(pinfo.where, p.kernel, p.stride);
    poolK = p.kernel;
    poolS = p.stride;
  };
  while (j < infos.length && infos[j]!.layer.kind === 'flatten' && acc.shape.h === 1 && acc.shape.w === 1) j++;
  if (j < infos.length && infos[j]!.layer.kind === 'maxpool') {
    takePool(infos[j]!);
    j++;
  }
  const rq = infos[j];
  if (rq && rq.layer.kind === 'flatten') throw flattenOfAccumulators(rq.where);
  if (!rq || rq.layer.kind !== 'requant') {
    const what = rq ? `is followed by ${rq.layer.kind} '${rq.layer.name}'` : 'ends the network';
    throw new CompileError(
      `${layer.kind} ${what}: the machine needs a requant right after it (optionally with one max pool in between), so the network must end with activations`,
      info.where,
    );
  }
  const rql = rq.layer as RequantLayer;
  lw.checkActivationWidth(rq.where, rql.bits, 'the requant output');
  j++;
  let outInfo: ValueInfo = rq.output;
  if (poolK === 1 && poolS === 1 && j < infos.length && infos[j]!.layer.kind === 'maxpool') {
    takePool(infos[j]!);
    outInfo = infos[j]!.output;
    j++;
  }
  const convShape = info.output.shape;
  const out = outInfo.shape;
  const dst = lw.resultTensor(step, j - 1, out, rql.signed, rql.bits);
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
  return { flow: { tensor: dst, flat: false }, next: j };
}
