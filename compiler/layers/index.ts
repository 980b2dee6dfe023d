/**
 * The registry of lowering rules, one per layer kind (compiler/layers/<kind>.ts).
 * The `satisfies` clause makes a kind of the IR (models/ir.ts LayerTypes)
 * without a rule a compile error, as models/layers/index.ts does for the
 * models package's pieces.
 */
import type { Layer, LayerKind, LayerOfKind } from '../../models/index.js';
import { conv2dLowering } from './conv2d.js';
import { denseLowering } from './dense.js';
import { flattenLowering } from './flatten.js';
import type { LayerLowering } from './lowering.js';
import { maxpoolLowering } from './maxpool.js';
import { requantLowering } from './requant.js';
import { residualLowering } from './residual.js';

export const LAYER_LOWERINGS = {
  conv2d: conv2dLowering,
  dense: denseLowering,
  maxpool: maxpoolLowering,
  requant: requantLowering,
  flatten: flattenLowering,
  residual: residualLowering,
} satisfies { [K in LayerKind]: LayerLowering<LayerOfKind<K>> };

/** The rule for a kind; undefined for a string that is no kind (own keys only). */
export function layerLowering(kind: unknown): LayerLowering<Layer> | undefined {
  if (typeof kind !== 'string' || !Object.hasOwn(LAYER_LOWERINGS, kind)) return undefined;
  // One rule per kind: the rule registered under a layer's kind lowers that layer.
  return LAYER_LOWERINGS[kind as LayerKind] as LayerLowering<Layer>;
}
