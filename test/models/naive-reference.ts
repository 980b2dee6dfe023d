/**
 * Deliberately plain, independent implementation of the network semantics,
 * used as the oracle for the optimized reference executor: one image at a
 * time, textbook nested loops, requant with BigInt floor division. Each
 * kind's loops are its module's `naive` piece (models/layers/<kind>.ts, rules
 * in models/layers/naive.ts), so a new kind cannot go without one; this file
 * walks the network and shares no code with models/reference.ts.
 */
import type { Layer, Network } from '../../models/ir.js';
import { layerModule } from '../../models/layers/index.js';
import type { NaiveContext, NaiveTensor } from '../../models/layers/naive.js';

export type { NaiveTensor } from '../../models/layers/naive.js';

export interface NaiveResult {
  /** per image: final output */
  outputs: NaiveTensor[];
  /** per layer path ("3", "5.main[1]", "5.shortcut"): per image output */
  layers: Map<string, NaiveTensor[]>;
  /** `where` of every layer that produced an accumulator outside the range */
  overflows: Set<string>;
}

export function naiveRun(net: Network, inputs: ArrayLike<number>, batch: number, accumulatorBits: number): NaiveResult {
  const accMax = 2 ** (accumulatorBits - 1) - 1;
  const accMin = -(2 ** (accumulatorBits - 1));
  const layers = new Map<string, NaiveTensor[]>();
  const overflows = new Set<string>();
  const outputs: NaiveTensor[] = [];

  const record = (path: string, t: NaiveTensor) => {
    if (!layers.has(path)) layers.set(path, []);
    layers.get(path)!.push(t);
  };

  const runLayers = (
    list: Layer[],
    x: NaiveTensor,
    parentWhere: string | null,
    parentPath: string | null,
  ): NaiveTensor => {
    list.forEach((layer, i) => {
      const where = parentWhere === null ? `layer ${i} '${layer.name}'` : `${parentWhere} main[${i}] '${layer.name}'`;
      const path = parentPath === null ? `${i}` : `${parentPath}.main[${i}]`;
      x = runOne(layer, x, where, path);
    });
    return x;
  };

  const runOne = (layer: Layer, x: NaiveTensor, where: string, path: string): NaiveTensor => {
    const module = layerModule(layer.kind);
    if (module === undefined) throw new Error(`naive reference: no layer kind '${String(layer.kind)}' (${where})`);
    const ctx: NaiveContext = {
      where,
      path,
      checkAccumulator(t) {
        for (const v of t.data) if (v < accMin || v > accMax) overflows.add(where);
      },
      chain: runLayers,
      layer: runOne,
    };
    const out = module.naive(layer, x, ctx);
    record(path, out);
    return out;
  };

  const size = net.input.channels * net.input.height * net.input.width;
  for (let n = 0; n < batch; n++) {
    const data = Array.from({ length: size }, (_, i) => inputs[n * size + i]!);
    const x: NaiveTensor = { c: net.input.channels, h: net.input.height, w: net.input.width, data };
    outputs.push(runLayers(net.layers, x, null, null));
  }
  return { outputs, layers, overflows };
}
