/**
 * Deliberately plain, independent implementation of the network semantics,
 * used as the oracle for the optimized reference executor: one image at a
 * time, textbook nested loops, requant with BigInt floor division. It shares
 * no code with models/reference.ts (only the IR types).
 */
import { assertNever } from '../../arch/index.js';
import type { Layer, Network } from '../../models/ir.js';
import type { Conv2dLayer } from '../../models/index.js';

export interface NaiveTensor {
  c: number;
  h: number;
  w: number;
  data: number[];
}

export interface NaiveResult {
  /** per image: final output */
  outputs: NaiveTensor[];
  /** per layer path ("3", "5.main[1]", "5.shortcut"): per image output */
  layers: Map<string, NaiveTensor[]>;
  /** `where` of every layer that produced an accumulator outside the range */
  overflows: Set<string>;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b; // truncates toward zero
  return a % b !== 0n && a < 0n ? q - 1n : q;
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
  const checkAcc = (t: NaiveTensor, where: string) => {
    for (const v of t.data) if (v < accMin || v > accMax) overflows.add(where);
  };

  const conv = (l: Conv2dLayer, x: NaiveTensor): NaiveTensor => {
    // padBottom / padRight: extra zero rows below and columns right (default: padH / padW)
    const oh = Math.floor((x.h + l.padH + (l.padBottom ?? l.padH) - l.kernelH) / l.strideH) + 1;
    const ow = Math.floor((x.w + l.padW + (l.padRight ?? l.padW) - l.kernelW) / l.strideW) + 1;
    const data: number[] = [];
    for (let co = 0; co < l.outChannels; co++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let sum = 0;
          for (let ci = 0; ci < l.inChannels; ci++) {
            for (let ky = 0; ky < l.kernelH; ky++) {
              for (let kx = 0; kx < l.kernelW; kx++) {
                const iy = oy * l.strideH - l.padH + ky;
                const ix = ox * l.strideW - l.padW + kx;
                if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
                const wv = l.weights[((co * l.inChannels + ci) * l.kernelH + ky) * l.kernelW + kx]!;
                sum += wv * x.data[(ci * x.h + iy) * x.w + ix]!;
              }
            }
          }
          data.push(sum);
        }
      }
    }
    return { c: l.outChannels, h: oh, w: ow, data };
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
    let out: NaiveTensor;
    switch (layer.kind) {
      case 'conv2d':
        out = conv(layer, x);
        checkAcc(out, where);
        break;
      case 'dense': {
        const data: number[] = [];
        for (let o = 0; o < layer.outFeatures; o++) {
          let sum = 0;
          for (let i = 0; i < layer.inFeatures; i++) sum += layer.weights[o * layer.inFeatures + i]! * x.data[i]!;
          data.push(sum);
        }
        out = { c: layer.outFeatures, h: 1, w: 1, data };
        checkAcc(out, where);
        break;
      }
      case 'maxpool': {
        const oh = Math.floor((x.h - layer.kernel) / layer.stride) + 1;
        const ow = Math.floor((x.w - layer.kernel) / layer.stride) + 1;
        const data: number[] = [];
        for (let c = 0; c < x.c; c++) {
          for (let oy = 0; oy < oh; oy++) {
            for (let ox = 0; ox < ow; ox++) {
              let m = -Infinity;
              for (let ky = 0; ky < layer.kernel; ky++) {
                for (let kx = 0; kx < layer.kernel; kx++) {
                  m = Math.max(m, x.data[(c * x.h + oy * layer.stride + ky) * x.w + ox * layer.stride + kx]!);
                }
              }
              data.push(m);
            }
          }
        }
        out = { c: x.c, h: oh, w: ow, data };
        break;
      }
      case 'requant': {
        const lo = layer.signed ? -(2n ** BigInt(layer.bits - 1) - 1n) : 0n;
        const hi = layer.signed ? 2n ** BigInt(layer.bits - 1) - 1n : 2n ** BigInt(layer.bits) - 1n;
        const data = x.data.map((v, i) => {
          const c = Math.floor(i / (x.h * x.w));
          const d = BigInt(v) - BigInt(layer.bias[c]!);
          const s = layer.shift[c]!;
          let q = s >= 0 ? floorDiv(d, 2n ** BigInt(s)) : d * 2n ** BigInt(-s);
          if (q < lo) q = lo;
          if (q > hi) q = hi;
          return Number(q);
        });
        out = { c: x.c, h: x.h, w: x.w, data };
        break;
      }
      case 'flatten':
        out = { c: x.c * x.h * x.w, h: 1, w: 1, data: [...x.data] };
        break;
      case 'residual': {
        const main = runLayers(layer.main, x, where, path);
        const short = runOne(layer.shortcut, x, `${where} shortcut '${layer.shortcut.name}'`, `${path}.shortcut`);
        out = { c: main.c, h: main.h, w: main.w, data: main.data.map((v, i) => v + short.data[i]!) };
        checkAcc(out, where);
        break;
      }
      default:
        // a new layer kind needs its naive reference here (docs/extending.md)
        return assertNever(layer, 'layer kind');
    }
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
