/**
 * `residual`: the paper's ResNet basic block without its final requant,
 *   acc = conv_last(main_prefix(x)) + shortcut(x)
 * (docs/model-format.md section 4.6). Nested layers go back through the
 * drivers via each piece's context.
 */

import { ArithmeticError, ModelError } from '../../arch/index.js';
import { accumulatorRange, formatShape, layerWhere, tensorSize, type Layer, type LayerInfoOf } from '../ir.js';
import { expectAccStats } from './calibration-stats.js';
import { accValue, describeValue, requireActivation } from './checks.js';
import type { Conv2dLayer } from './conv2d.js';
import { describeJson } from './json-fields.js';
import { overflow, type PrepareContext, type PreparedLayer } from './kernels.js';
import { layerFields, type LayerModule } from './layer-module.js';

/**
 * `main` is a list of layers ending in a conv2d whose accumulator is summed
 * with the shortcut conv2d's accumulator (same output shape and channels).
 * A `requant` layer must follow.
 */
export interface ResidualLayer {
  kind: 'residual';
  name: string;
  main: Layer[];
  shortcut: Conv2dLayer;
}

declare module '../ir.js' {
  interface LayerTypes {
    residual: ResidualLayer;
  }
}

const FIELDS = layerFields<ResidualLayer>()('kind', 'name', 'main', 'shortcut');

function prepareResidual(info: LayerInfoOf<ResidualLayer>, ctx: PrepareContext): PreparedLayer {
  const { accBits, chunk } = ctx;
  const where = info.where;
  const { lo: accLo, hi: accHi } = accumulatorRange(accBits);
  const children = info.children!.map((child) => {
    const prepared = ctx.prepare(child);
    return { prepared, buffer: new Int32Array(chunk * prepared.outSize) };
  });
  const mainCount = info.layer.main.length;
  const mainOut = children[mainCount - 1]!.buffer;
  const short = children[mainCount]!;
  const n = tensorSize(info.output.shape);
  return {
    info,
    inSize: tensorSize(info.input.shape),
    outSize: n,
    children,
    run(input, output, count, firstImage) {
      if (count > chunk) throw new Error(`internal: residual prepared for ${chunk} images, got ${count}`);
      let src = input;
      for (let i = 0; i < mainCount; i++) {
        const child = children[i]!;
        child.prepared.run(src, child.buffer, count, firstImage);
        src = child.buffer;
      }
      short.prepared.run(input, short.buffer, count, firstImage);
      const sc = short.buffer;
      const total = count * n;
      for (let i = 0; i < total; i++) {
        const v = mainOut[i]! + sc[i]!;
        if (v < accLo || v > accHi) {
          const k = Math.floor(i / n);
          overflow(where, firstImage + k, info.output.shape, i - k * n, v, accBits);
        }
        output[i] = v;
      }
    },
  };
}

export const residualLayer: LayerModule<ResidualLayer> = {
  kind: 'residual',
  fields: FIELDS,

  analyze(ck, layer, input, ctx) {
    const { where, path, index } = ctx;
    const act = requireActivation(ck, 'residual', input);
    if (!Array.isArray(ck.value('main')) || layer.main.length === 0) {
      ck.fail('main', `expected a non-empty list of layers, got ${describeValue(ck.value('main'))}`);
    }
    const children = ctx.chain(layer.main, act, where, path);
    const last = children[children.length - 1]!;
    if (last.layer.kind !== 'conv2d') {
      ck.fail(
        'main',
        `must end with a conv2d (its accumulator is summed with the shortcut), ends with ${last.layer.kind}`,
      );
    }
    const sc = ck.value('shortcut');
    if (typeof sc !== 'object' || sc === null || (sc as { kind?: unknown }).kind !== 'conv2d') {
      ck.fail('shortcut', `expected a conv2d layer, got ${describeValue(sc)}`);
    }
    const scWhere = layerWhere(0, layer.shortcut.name, where, 'shortcut');
    const scInfo = ctx.layer(layer.shortcut, index, `${path}.shortcut`, scWhere, act);
    const mainOut = last.output;
    const scOut = scInfo.output;
    const ms = mainOut.shape;
    const ss = scOut.shape;
    if (ms.c !== ss.c || ms.h !== ss.h || ms.w !== ss.w) {
      ck.fail('shortcut', `output shape ${formatShape(ss)} differs from the main path output shape ${formatShape(ms)}`);
    }
    const output = accValue(ms, mainOut.lo + scOut.lo, mainOut.hi + scOut.hi);
    const macs = children.reduce((s, c) => s + c.macs, 0) + scInfo.macs;
    return { output, macs, children: [...children, scInfo] };
  },
  checkNext(next, where) {
    if ((next as { kind?: unknown } | null | undefined)?.kind !== 'requant') {
      throw new ModelError('a residual must be followed directly by a requant', where);
    }
  },

  prepare: (info, ctx) => prepareResidual(info, ctx),

  calibrateSamples(info, x, ctx) {
    const children = info.children!;
    const m = info.layer.main.length;
    const mainOut = ctx.chain(children.slice(0, m), x);
    const sc = ctx.layer(children[m]!, x);
    const { lo, hi } = accumulatorRange(ctx.accBits);
    const sum = new Int32Array(mainOut.length);
    for (let i = 0; i < sum.length; i++) {
      const v = mainOut[i]! + sc[i]!;
      if (v < lo || v > hi) {
        throw new ArithmeticError(`accumulator overflow during calibration: value ${v}`, info.where);
      }
      sum[i] = v;
    }
    return sum;
  },
  calibrateAnalytic(info, x, ctx) {
    const children = info.children!;
    const m = info.layer.main.length;
    const main = expectAccStats(ctx.chain(children.slice(0, m), x), info.where);
    const sc = expectAccStats(ctx.layer(children[m]!, x), info.where);
    return {
      kind: 'acc',
      mean: main.mean.map((v, i) => v + sc.mean[i]!),
      variance: main.variance.map((v, i) => v + sc.variance[i]!),
    };
  },

  toJson: (layer, ctx) => ({
    kind: layer.kind,
    name: layer.name,
    main: layer.main.map((l) => ctx.write(l)),
    shortcut: ctx.write(layer.shortcut),
  }),
  fromJson(f, { name, parse }) {
    const main = f.obj['main'];
    if (!Array.isArray(main) || main.length === 0)
      f.fail('main', `expected a non-empty array of layers, got ${describeJson(main)}`);
    const layers = (main as unknown[]).map((m, i) =>
      parse(m, layerWhere(i, (m as { name?: unknown } | null)?.name, f.where)),
    );
    const scValue = f.obj['shortcut'];
    const scWhere = layerWhere(0, (scValue as { name?: unknown } | null)?.name, f.where, 'shortcut');
    const shortcut = parse(scValue, scWhere);
    if (shortcut.kind !== 'conv2d') f.fail('shortcut', `must be a conv2d layer, got a ${shortcut.kind}`);
    return { kind: 'residual', name, main: layers, shortcut: shortcut as Conv2dLayer };
  },

  toQonnx(info, x, q) {
    // its layers, the Conv shortcut on the block's input, Add
    const children = info.children!;
    let v = x;
    for (const child of children.slice(0, -1)) v = q.layer(child, v);
    const sc = q.layer(children[children.length - 1]!, x);
    return { value: q.node('Add', info.layer.name, [v.value, sc.value]), flat: v.flat };
  },
  naive(l, x, ctx) {
    const main = ctx.chain(l.main, x, ctx.where, ctx.path);
    const short = ctx.layer(l.shortcut, x, `${ctx.where} shortcut '${l.shortcut.name}'`, `${ctx.path}.shortcut`);
    const out = { c: main.c, h: main.h, w: main.w, data: main.data.map((v, i) => v + short.data[i]!) };
    ctx.checkAccumulator(out);
    return out;
  },
};
