/**
 * MNISTNET_INT (or a narrower variant) as a quantisation-aware trainable
 * network. Its forward pass is the integer network itself: weights are
 * latent floats in integer units, rounded and clamped to [-7, 7] on use
 * (straight-through gradient), activations are the shift-BN requant outputs.
 * The per-layer power-of-two weight scale of the paper is folded into the
 * requant shifts, so the exported weights are the integers used here.
 *
 *   conv3x3 1->c1 pad1, requant u4, maxpool 2,
 *   conv3x3 c1->c2 pad1, requant u4, maxpool 2,
 *   conv3x3 c2->c3 pad1, requant u4, maxpool 2 (7->3), flatten,
 *   FC 9*c3->hidden, requant u4, FC hidden->10, requant s4
 */

import type { Layer, Network } from '../ir.js';
import { squareConv2d } from '../layers/conv2d.js';
import {
  conv3x3Backward,
  conv3x3Forward,
  denseBackward,
  denseForward,
  maxPool2Backward,
  maxPool2Forward,
  softmaxCrossEntropy,
  type ConvShape,
} from './layers.js';
import type { SeededRandom } from '../seeded-random.js';
import { ShiftBatchNorm, type NormMode } from './shift-batch-norm.js';

export interface MnistNetShape {
  /** output channels of the three convolutions (MNISTNET_INT: 16, 16, 16) */
  conv: [number, number, number];
  /** hidden dense features (MNISTNET_INT: 128) */
  hidden: number;
}

export const MNISTNET_INT_SHAPE: MnistNetShape = { conv: [16, 16, 16], hidden: 128 };

const WEIGHT_MAX = 7;
const ACT_MAX = 15;
const CLASSES = 10;
const SIDE = 28;
/** one standard deviation of a hidden accumulator spans about this many of the 16 levels */
const HIDDEN_GAIN = 4;
/** ... and of an output accumulator, of the 15 signed levels */
const OUTPUT_GAIN = 3;
/** softmax temperature applied to the integer outputs in the loss */
export const LOGIT_SCALE = 1;

/** A learnable tensor and its gradient (same length). */
export interface Parameter {
  name: string;
  value: Float32Array;
  grad: Float32Array;
  /** latent integer weights are kept within [-clip, clip] after each update */
  clip?: number;
}

export class MnistQatNet {
  readonly shape: MnistNetShape;
  readonly maxBatch: number;
  readonly convShapes: ConvShape[];
  /** latent weights: conv1..3 [co][ci][3][3], fc1 [hidden][9*c3], fc2 [10][hidden] */
  readonly weights: Float32Array[];
  readonly weightGrads: Float32Array[];
  readonly norms: ShiftBatchNorm[];
  private readonly q: Float32Array[];
  // activations and scratch, sized for maxBatch
  private readonly input: Float32Array;
  private readonly padded: Float32Array[];
  private readonly gradPadded: Float32Array[];
  private readonly acc: Float32Array[];
  private readonly act: Float32Array[];
  private readonly pooled: Float32Array[];
  private readonly argmax: Int32Array[];
  private readonly gradA: Float32Array[];
  private readonly gradB: Float32Array[];
  private batch = 0;

  constructor(shape: MnistNetShape, maxBatch: number, rng: SeededRandom) {
    this.shape = shape;
    this.maxBatch = maxBatch;
    const [c1, c2, c3] = shape.conv;
    this.convShapes = [
      { inChannels: 1, outChannels: c1, h: 28, w: 28 },
      { inChannels: c1, outChannels: c2, h: 14, w: 14 },
      { inChannels: c2, outChannels: c3, h: 7, w: 7 },
    ];
    const flat = c3 * 9;
    const sizes = [c1 * 9, c2 * c1 * 9, c3 * c2 * 9, shape.hidden * flat, CLASSES * shape.hidden];
    // BN makes the weight scale irrelevant to the function, so initialise to
    // use most of the 4-bit grid: uniform in [-4, 4] integer units.
    this.weights = sizes.map((n) => {
      const w = new Float32Array(n);
      for (let i = 0; i < n; i++) w[i] = rng.uniform(-4, 4);
      return w;
    });
    this.weightGrads = sizes.map((n) => new Float32Array(n));
    this.q = sizes.map((n) => new Float32Array(n));
    const u4 = { lo: 0, hi: ACT_MAX };
    this.norms = [
      new ShiftBatchNorm(c1, u4, HIDDEN_GAIN),
      new ShiftBatchNorm(c2, u4, HIDDEN_GAIN),
      new ShiftBatchNorm(c3, u4, HIDDEN_GAIN),
      new ShiftBatchNorm(shape.hidden, u4, HIDDEN_GAIN),
      new ShiftBatchNorm(CLASSES, { lo: -WEIGHT_MAX, hi: WEIGHT_MAX }, OUTPUT_GAIN, true),
    ];
    const B = maxBatch;
    this.input = new Float32Array(B * SIDE * SIDE);
    this.padded = this.convShapes.map((s) => new Float32Array(B * s.inChannels * (s.h + 2) * (s.w + 2)));
    this.gradPadded = this.convShapes.map((s) => new Float32Array(B * s.inChannels * (s.h + 2) * (s.w + 2)));
    const accSizes = [c1 * 784, c2 * 196, c3 * 49, shape.hidden, CLASSES].map((n) => B * n);
    this.acc = accSizes.map((n) => new Float32Array(n));
    this.act = accSizes.map((n) => new Float32Array(n));
    const poolSizes = [c1 * 196, c2 * 49, c3 * 9].map((n) => B * n);
    this.pooled = poolSizes.map((n) => new Float32Array(n));
    this.argmax = poolSizes.map((n) => new Int32Array(n));
    const maxSize = Math.max(...accSizes, B * 784);
    this.gradA = [new Float32Array(maxSize)];
    this.gradB = [new Float32Array(maxSize)];
  }

  parameters(): Parameter[] {
    const names = ['conv1', 'conv2', 'conv3', 'fc1', 'fc2'];
    const out: Parameter[] = this.weights.map((w, i) => ({
      name: `${names[i]}.weight`,
      value: w,
      grad: this.weightGrads[i]!,
      clip: WEIGHT_MAX + 0.5,
    }));
    this.norms.forEach((bn, i) => {
      if (bn.mode === 'batch') out.push({ name: `bn${i + 1}.beta`, value: bn.beta, grad: bn.gradBeta });
      else out.push({ name: `bn${i + 1}.t`, value: bn.t, grad: bn.gradT });
    });
    return out;
  }

  setNormMode(mode: NormMode): void {
    for (const bn of this.norms) if (mode === 'frozen') bn.freeze();
  }

  zeroGrads(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }

  /** Integer weights as the forward pass uses them. */
  quantizedWeights(): Int8Array[] {
    return this.weights.map((w) => {
      const q = new Int8Array(w.length);
      for (let i = 0; i < w.length; i++) q[i] = quantizeWeight(w[i]!);
      return q;
    });
  }

  /**
   * Forward `batch` images (pixels 0..255, image indices into `images`);
   * returns the integer logits (batch * 10), valid until the next call.
   */
  forward(images: Uint8Array, indices: ArrayLike<number>, batch: number, training: boolean): Float32Array {
    if (batch > this.maxBatch) throw new RangeError(`batch ${batch} exceeds ${this.maxBatch}`);
    this.batch = batch;
    for (let n = 0; n < batch; n++) {
      const src = indices[n]! * 784;
      for (let i = 0; i < 784; i++) this.input[n * 784 + i] = images[src + i]!;
    }
    for (let l = 0; l < 5; l++) {
      const w = this.weights[l]!;
      const q = this.q[l]!;
      for (let i = 0; i < w.length; i++) q[i] = quantizeWeight(w[i]!);
    }
    let x = this.input;
    for (let l = 0; l < 3; l++) {
      const s = this.convShapes[l]!;
      conv3x3Forward(s, batch, x, this.q[l]!, this.padded[l]!, this.acc[l]!);
      this.norms[l]!.forward(this.acc[l]!, batch, s.h * s.w, this.act[l]!, training);
      maxPool2Forward(s.outChannels, s.h, s.w, batch, this.act[l]!, this.pooled[l]!, this.argmax[l]!);
      x = this.pooled[l]!;
    }
    const flat = this.shape.conv[2] * 9;
    denseForward(flat, this.shape.hidden, batch, x, this.q[3]!, this.acc[3]!);
    this.norms[3]!.forward(this.acc[3]!, batch, 1, this.act[3]!, training);
    denseForward(this.shape.hidden, CLASSES, batch, this.act[3]!, this.q[4]!, this.acc[4]!);
    this.norms[4]!.forward(this.acc[4]!, batch, 1, this.act[4]!, training);
    return this.act[4]!;
  }

  /** Loss and gradients for the last forward pass (which must have had training = true). */
  backward(labels: ArrayLike<number>): { loss: number; correct: number } {
    const batch = this.batch;
    const [c1, c2, c3] = this.shape.conv;
    const hidden = this.shape.hidden;
    const g = this.gradA[0]!;
    const h = this.gradB[0]!;
    const result = softmaxCrossEntropy(CLASSES, batch, this.act[4]!, labels, LOGIT_SCALE, g);
    this.norms[4]!.backward(g, batch, 1, h);
    denseBackward(hidden, CLASSES, batch, this.act[3]!, this.q[4]!, h, this.weightGrads[4]!, g);
    this.norms[3]!.backward(g, batch, 1, h);
    denseBackward(c3 * 9, hidden, batch, this.pooled[2]!, this.q[3]!, h, this.weightGrads[3]!, g);
    // g: gradient of pooled conv3 output
    const convOut = [c1, c2, c3];
    const spatial = [784, 196, 49];
    for (let l = 2; l >= 0; l--) {
      const s = this.convShapes[l]!;
      const inSize = batch * convOut[l]! * spatial[l]!;
      const outSize = batch * convOut[l]! * Math.floor(s.h / 2) * Math.floor(s.w / 2);
      maxPool2Backward(outSize, g, this.argmax[l]!, h, inSize);
      this.norms[l]!.backward(h, batch, spatial[l]!, g);
      // g now: gradient of the conv accumulator; write its input gradient into h
      conv3x3Backward(
        s,
        batch,
        this.padded[l]!,
        this.q[l]!,
        g,
        this.weightGrads[l]!,
        l > 0 ? h : null,
        this.gradPadded[l]!,
      );
      if (l > 0) g.set(h.subarray(0, batch * s.inChannels * s.h * s.w));
    }
    return result;
  }

  /** The trained network in the project's IR (frozen requant parameters). */
  toNetwork(name: string): Network {
    const [c1, c2, c3] = this.shape.conv;
    const q = this.quantizedWeights();
    const requant = (i: number, signed: boolean): Layer => {
      const { bias, shift } = this.norms[i]!.integerParams();
      return { kind: 'requant', name: `requant${i + 1}`, signed, bits: 4, bias, shift };
    };
    const conv = (i: number, ci: number, co: number): Layer => squareConv2d(`conv${i + 1}`, ci, co, 3, 1, 1, q[i]!);
    const pool = (i: number): Layer => ({ kind: 'maxpool', name: `pool${i + 1}`, kernel: 2, stride: 2 });
    const layers: Layer[] = [
      conv(0, 1, c1),
      requant(0, false),
      pool(0),
      conv(1, c1, c2),
      requant(1, false),
      pool(1),
      conv(2, c2, c3),
      requant(2, false),
      pool(2),
      { kind: 'flatten', name: 'flatten' },
      { kind: 'dense', name: 'fc1', inFeatures: c3 * 9, outFeatures: this.shape.hidden, weights: q[3]! },
      requant(3, false),
      { kind: 'dense', name: 'fc2', inFeatures: this.shape.hidden, outFeatures: CLASSES, weights: q[4]! },
      requant(4, true),
    ];
    return {
      name,
      input: { channels: 1, height: SIDE, width: SIDE, bits: 8, signed: false },
      layers,
      weightBits: 4,
      accumulatorBits: 32,
    };
  }
}

export function quantizeWeight(w: number): number {
  const r = Math.round(w);
  return r > WEIGHT_MAX ? WEIGHT_MAX : r < -WEIGHT_MAX ? -WEIGHT_MAX : r;
}
