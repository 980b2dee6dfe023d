/**
 * The registry of layer kinds for the models package: one module per kind
 * (models/layers/<kind>.ts) with its type, analysis, reference kernel,
 * calibration and JSON I/O. The `satisfies` clause makes a kind of the IR
 * without a module, a module with a missing piece, or a module under the
 * wrong name a compile error. The order is the order error messages list the
 * kinds in. The compiler's lowering rules are registered the same way in
 * compiler/layers/index.ts.
 */

import type { Layer, LayerKind, LayerOfKind } from '../ir.js';
import { conv2dLayer } from './conv2d.js';
import { denseLayer } from './dense.js';
import { flattenLayer } from './flatten.js';
import type { LayerModule } from './layer-module.js';
import { maxpoolLayer } from './maxpool.js';
import { requantLayer } from './requant.js';
import { residualLayer } from './residual.js';

export const LAYER_MODULES = {
  conv2d: conv2dLayer,
  dense: denseLayer,
  maxpool: maxpoolLayer,
  requant: requantLayer,
  flatten: flattenLayer,
  residual: residualLayer,
} satisfies { [K in LayerKind]: LayerModule<LayerOfKind<K>> & { kind: K } };

/** The kinds, in registry order. */
export const LAYER_KINDS = Object.keys(LAYER_MODULES) as LayerKind[];

/**
 * The module of a kind, or undefined for a string that is no kind (a layer
 * object from JavaScript or a file). Own keys only: `constructor` is no kind.
 */
export function layerModule(kind: unknown): LayerModule<Layer> | undefined {
  if (typeof kind !== 'string' || !Object.hasOwn(LAYER_MODULES, kind)) return undefined;
  // One module per kind: the module registered under a layer's kind handles that layer.
  return LAYER_MODULES[kind as LayerKind] as LayerModule<Layer>;
}

/** The module of a layer that analysis has accepted (so its kind is known). */
export function knownLayerModule(layer: Layer): LayerModule<Layer> {
  const module = layerModule(layer.kind);
  if (module === undefined) throw new Error(`internal: no layer module for kind ${String(layer.kind)}`);
  return module;
}
