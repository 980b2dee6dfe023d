/**
 * Lowering: network IR -> a list of ConvOps, the one operation the machine
 * runs (GEMM passes into ACC, one REQUANT with optional fused max pooling,
 * STORE). Every IR layer group maps onto it:
 *  - conv2d [maxpool] requant [maxpool]         -> one ConvOp (pool fused into REQUANT)
 *  - [flatten] dense requant                    -> ConvOp whose kernel covers the
 *    flattened H x W map (dense weights [out][c*H*W+h*W+w] already are [co][ci][kh][kw])
 *  - residual requant                           -> ConvOps of the main prefix, then one
 *    ConvOp with two terms (last main conv, shortcut conv) summed in ACC
 *  - maxpool of activations                     -> identity 1x1 ConvOp + pooled REQUANT
 *  - flatten not followed by dense              -> identity dense (no-op when H = W = 1)
 */
import type { ArchConfig } from '../arch/index.js';
import { CompileError } from '../arch/index.js';
import { analyzeNetwork, type LayerInfo, type Network } from '../models/index.js';
import type { Lowered } from './conv-op.js';
import { layerLowering } from './layers/index.js';
import { Lowering, type ChainStep, type Flow } from './layers/lowering.js';

export type { ActTensor, ConvOp, ConvTerm, LayerGroup, Lowered } from './conv-op.js';
export { ISA_LIMITS } from './conv-op.js';

/**
 * Lower a chain of layers starting from `flow`; returns the flow after it.
 * `topLevel`: the network's own layers (each run of layers is one group);
 * otherwise a residual's main path before its last conv (the residual's group).
 * Every rule consumes at least its own layer, so the walk ends.
 */
function lowerChain(
  lw: Lowering,
  infos: LayerInfo[],
  flow: Flow,
  outName: (i: number) => string,
  isLast: (i: number) => boolean,
  topLevel: boolean,
): Flow {
  let i = 0;
  while (i < infos.length) {
    const info = infos[i]!;
    const layer = info.layer;
    const rule = layerLowering(layer.kind);
    if (rule === undefined) {
      throw new CompileError(
        `layer kind '${String(layer.kind)}' has no lowering to the machine`,
        info.where,
        'NB-C001',
      );
    }
    // One group per top-level layer run; nested chains reuse the residual's group.
    const group = topLevel ? lw.group(layer.name, layer.kind, 0) : lw.groups.length - 1;
    const step: ChainStep = {
      lw,
      infos,
      at: i,
      flow,
      group,
      outName,
      isLast,
      addMacs: (m) => {
        if (topLevel) lw.groups[group]!.macs += m;
      },
      chain: (sub, subFlow, subName) => lowerChain(lw, sub, subFlow, subName, () => false, false),
    };
    const result = rule.lower(info, step);
    if (!(result.next > i)) throw new Error(`internal: the ${layer.kind} lowering did not advance past ${info.where}`);
    if (topLevel && lw.groups[group]!.ops.length === 0 && result.next === i + 1) {
      // a layer that moved no data (a flatten read in place) has no group of its own
      lw.groups.pop();
    }
    flow = result.flow;
    i = result.next;
  }
  return flow;
}

/** Check a network against the machine and lower it to ConvOps. */
export function lowerNetwork(net: Network, cfg: ArchConfig): Lowered {
  const analysis = analyzeNetwork(net);
  const netWhere = `network '${net.name}'`;
  if (net.weightBits > cfg.bits.weight) {
    throw new CompileError(
      `weights are ${net.weightBits} bits (weightBits) but bits.weight is ${cfg.bits.weight}: raise bits.weight to ${net.weightBits}`,
      netWhere,
    );
  }
  const ab = cfg.bits.activation;
  if (ab < 4) {
    throw new CompileError(
      `network inputs are ${net.input.bits}-bit (fed as 4-bit nibbles) but bits.activation is ${ab}: raise bits.activation to 4`,
      netWhere,
    );
  }
  const lw = new Lowering(net, cfg);
  const inBits = net.input.bits;
  const input = lw.tensor(
    'input',
    net.input.channels,
    net.input.height,
    net.input.width,
    false,
    inBits,
    'input',
    // wider than the array's activations: two nibble-plane passes; otherwise read as is
    inBits > cfg.bits.activation ? 'nibble-planes' : 'blocked',
  );
  const n = analysis.layers.length;
  const flow = lowerChain(
    lw,
    analysis.layers,
    { tensor: input, flat: false },
    (i) => `${analysis.layers[i]!.layer.name}.out`,
    (i) => i === n - 1,
    true,
  );
  const output = flow.tensor;
  if (output.role !== 'output') {
    throw new CompileError(
      'the network must end with activations (a requant, or a pool of one)',
      `layer ${n - 1} '${net.layers[n - 1]!.name}'`,
    );
  }
  return { ops: lw.ops, groups: lw.groups, tensors: lw.tensors, input, output };
}
