/**
 * `residual` requant -> the main path's leading layers as ordinary ConvOps,
 * then ONE ConvOp with two terms (the last main conv and the shortcut conv)
 * GEMMed into the same ACC tile, then one REQUANT.
 */
import type { Conv2dLayer, LayerInfoOf, ResidualLayer } from '../../models/index.js';
import { lowerAccumulatorOp } from './accumulator-op.js';
import type { Flow, LayerLowering } from './lowering.js';

export const residualLowering: LayerLowering<ResidualLayer> = {
  lower(info, step) {
    const { lw, group } = step;
    const layer = info.layer;
    lw.checkAccumulator(info);
    const kids = info.children!;
    const mainInfos = kids.slice(0, layer.main.length);
    // analysis guarantees that the main path ends with a conv2d and the shortcut is one
    const lastMain = mainInfos[mainInfos.length - 1] as LayerInfoOf<Conv2dLayer>;
    const scInfo = kids[layer.main.length] as LayerInfoOf<Conv2dLayer>;
    const blockIn = lw.materialize(step.flow, group, info.where, `${layer.name}.flatten`);
    const inFlow: Flow = { tensor: blockIn, flat: false };
    const prefix = mainInfos.slice(0, -1);
    const mid = prefix.length ? step.chain(prefix, inFlow, (k) => `${layer.name}.main${k}`) : inFlow;
    const terms = [lw.convTerm(lastMain, mid, group), lw.convTerm(scInfo, inFlow, group)];
    return lowerAccumulatorOp(info, step, terms, false);
  },
};
