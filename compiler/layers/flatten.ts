/**
 * `flatten`: before a dense, or of a 1 x 1 map, nothing (no data moves: the
 * dense reads the flattened view); elsewhere (e.g. at the end) an identity
 * dense into the [C*H*W,1,1] blocked layout.
 */
import { CompileError } from '../../arch/index.js';
import type { FlattenLayer } from '../../models/index.js';
import { flattenOfAccumulators } from './accumulator-op.js';
import type { LayerLowering } from './lowering.js';

export const flattenLowering: LayerLowering<FlattenLayer> = {
  lower(info, step) {
    const { lw, group, infos, at } = step;
    if (info.input.kind !== 'act') throw flattenOfAccumulators(info.where);
    const t = step.flow.tensor;
    const flat = step.flow.flat || t.h * t.w > 1;
    let flow = { tensor: t, flat };
    const next = infos[at + 1];
    if (!next) {
      if (!flat && t.producer < 0)
        throw new CompileError('the network ends with a flatten of its input: nothing to compute', info.where);
      const dst = flat ? lw.materialize(flow, group, info.where, info.layer.name) : t;
      dst.name = 'output';
      dst.role = 'output';
      flow = { tensor: dst, flat: false };
    } else if (next.layer.kind !== 'dense' && flat) {
      flow = { tensor: lw.materialize(flow, group, info.where, info.layer.name), flat: false };
    }
    return { flow, next: at + 1 };
  },
};
