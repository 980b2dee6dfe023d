/**
 * `flatten`: before a dense, or of a 1 x 1 map, nothing (no data moves: the
 * dense reads the flattened view); elsewhere (e.g. at the end) an identity
 * dense into the [C*H*W,1,1] blocked layout.
 */
import type { FlattenLayer } from '../../models/index.js';
import { flattenOfAccumulators } from './accumulator-op.js';
import { passThrough, type LayerLowering } from './lowering.js';

export const flattenLowering: LayerLowering<FlattenLayer> = {
  lower(info, step) {
    const { lw, group, infos, at } = step;
    if (info.input.kind !== 'act') throw flattenOfAccumulators(info.where);
    const t = step.flow.tensor;
    const flow = { tensor: t, flat: step.flow.flat || t.h * t.w > 1 };
    const next = infos[at + 1];
    // before a dense the view is read in place; at the end of a residual's main prefix the block's last conv
    // reads it (materializing a flat view); elsewhere it becomes real now
    if (!step.isLast(at) && next !== undefined && next.layer.kind !== 'dense' && flow.flat) {
      return { flow: { tensor: lw.materialize(flow, group, info.where, info.layer.name), flat: false }, next: at + 1 };
    }
    return passThrough(info, step, flow);
  },
};
