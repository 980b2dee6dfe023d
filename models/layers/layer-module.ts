/**
 * What one layer kind must provide to the models package: one object per
 * kind (models/layers/<kind>.ts), registered in models/layers/index.ts, which
 * checks that every kind of the IR has every piece. The drivers
 * (models/analysis.ts, reference.ts, calibration.ts, model-json.ts,
 * onnx/export.ts, and the tests' test/models/naive-reference.ts) walk the
 * network and dispatch to these; nested layers (a residual's main path) go
 * back through the drivers via the context each piece receives, so a kind
 * module never imports the registry (no import cycle).
 */

import type { Layer, LayerInfo, LayerInfoOf, Network, ValueInfo } from '../ir.js';
import type { AnalyticContext, SampleContext, Stats } from './calibration-stats.js';
import type { Checker } from './checks.js';
import type { Fields } from './json-fields.js';
import type { PrepareContext, PreparedLayer, RequantEpilogue } from './kernels.js';
import type { NaiveContext, NaiveTensor } from './naive.js';
import type { QonnxValue, QonnxWriter } from './qonnx-form.js';

/** What a kind's `analyze` gets besides its layer and input. */
export interface AnalysisContext {
  net: Network;
  /** the layer's place (see LayerInfo) */
  index: number;
  path: string;
  where: string;
  /** analyzes a nested chain of layers (a residual's main path) */
  chain(layers: Layer[], input: ValueInfo, parentWhere: string, parentPath: string): LayerInfo[];
  /** analyzes one nested layer (a residual's shortcut) */
  layer(layer: Layer, index: number, path: string, where: string, input: ValueInfo): LayerInfo;
}

/** The result of a kind's analysis: what flows out, and the work it does. */
export interface LayerAnalysis {
  output: ValueInfo;
  /** multiply-accumulates per image */
  macs: number;
  /** nested layers' analyses (residual: main path, then shortcut) */
  children?: LayerInfo[];
}

/** What a kind's `fromJson` gets besides the layer object's checked fields. */
export interface JsonReadContext {
  /** the layer's `name`, already checked */
  name: string;
  weightBits: number;
  /** parses a nested layer object (`where` names it in errors) */
  parse(value: unknown, where: string): Layer;
}

export interface JsonWriteContext {
  /** writes a nested layer */
  write(layer: Layer): Record<string, unknown>;
}

export interface LayerModule<L extends Layer> {
  readonly kind: L['kind'];
  /** every field of the layer object, `kind` and `name` first, in JSON file order */
  readonly fields: readonly (keyof L & string)[];
  /** fields a JSON layer object may leave out (written only when they differ from their default) */
  readonly optionalFields?: readonly (keyof L & string)[];

  /**
   * Checks every field of the layer except `kind` and `name` (type and range:
   * the object may come from JavaScript) against its input, and infers the
   * output. Throws ModelError via `ck`, naming the field.
   */
  analyze(ck: Checker, layer: L, input: ValueInfo, ctx: AnalysisContext): LayerAnalysis;
  /** optional rule on the layer that follows this one in its chain (undefined: the chain ends) */
  checkNext?(next: Layer | undefined, where: string): void;

  /** the reference kernel (models/reference.ts) */
  prepare(info: LayerInfoOf<L>, ctx: PrepareContext): PreparedLayer;
  /** the reference kernel with a directly following requant folded in (conv2d, dense) */
  prepareWithRequant?(info: LayerInfoOf<L>, ctx: PrepareContext, epilogue: RequantEpilogue): PreparedLayer;

  /** sample calibration: sets the layer's parameters if it has any, returns its output on the batch */
  calibrateSamples(info: LayerInfoOf<L>, x: Int32Array, ctx: SampleContext): Int32Array;
  /** analytic calibration: sets the layer's parameters if it has any, returns its output distribution */
  calibrateAnalytic(info: LayerInfoOf<L>, x: Stats, ctx: AnalyticContext): Stats;

  /** the JSON object of the layer, keys in `fields` order (models/model-json.ts pretty-prints it) */
  toJson(layer: L, ctx: JsonWriteContext): Record<string, unknown>;
  /** the layer from a JSON object whose keys are exactly `fields` */
  fromJson(f: Fields, ctx: JsonReadContext): L;

  /**
   * The layer's QONNX form (`nibble export --format qonnx`), which `nibble
   * import` must read back to the identical layer. Throws ModelError naming
   * the layer when this configuration of it has none.
   */
  toQonnx(info: LayerInfoOf<L>, x: QonnxValue, q: QonnxWriter): QonnxValue;

  /** The layer in textbook loops: the test suite's independent oracle (see naive.ts). */
  naive(layer: L, x: NaiveTensor, ctx: NaiveContext): NaiveTensor;
}

/**
 * A kind's `fields`, checked to name every key of the layer type: a field
 * added to the type but not to the list (so neither written nor accepted in
 * JSON files) is a compile error naming it. Usage:
 * `const FIELDS = layerFields<MaxPoolLayer>()('kind', 'name', 'kernel', 'stride')`.
 */
export function layerFields<L extends Layer>() {
  return <const F extends readonly (keyof L & string)[]>(
    ...fields: F &
      (Exclude<keyof L, F[number]> extends never ? unknown : { missingFields: Exclude<keyof L, F[number]> })
  ): F => fields;
}

/** The JSON object of a layer whose fields are all plain values or typed arrays. */
export function plainJson<L extends Layer>(layer: L, fields: readonly (keyof L & string)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = layer[f];
  return out;
}

/** Sample calibration of a layer without parameters: its output on the batch. */
export function runOnSamples(info: LayerInfo, x: Int32Array, ctx: SampleContext): Int32Array {
  return ctx.run(info, x);
}
