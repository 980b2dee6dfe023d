/**
 * Forward and backward passes of the few layer kinds the MNIST network needs,
 * over a batch held in Float32Array (NCHW). Every forward value the trainer
 * computes is an integer below 2^24 (integer weights times integer
 * activations), so float32 arithmetic is exact and the trained forward pass
 * equals the integer model the reference executor runs.
 *
 * Direct loops, no im2col: the network is tiny and backward passes exploit the
 * sparsity of output gradients (max pooling passes a gradient to one input in
 * four, and clamped activations pass none), which im2col would not.
 */

/** Geometry of a 3x3, stride 1, zero-padding 1 convolution. */
export interface ConvShape {
  inChannels: number;
  outChannels: number;
  /** input (= output) height and width */
  h: number;
  w: number;
}

/**
 * out[n][co] = sum over ci, taps of weights[co][ci][kh][kw] * in[n][ci] (padded).
 * `padded` receives the zero-padded input (n * ci * (h+2) * (w+2)), kept for backward.
 */
export function conv3x3Forward(
  s: ConvShape,
  batch: number,
  input: Float32Array,
  weights: Float32Array,
  padded: Float32Array,
  out: Float32Array,
): void {
  const { inChannels: ci, outChannels: co, h, w } = s;
  const pw = w + 2;
  const plane = (h + 2) * pw;
  padded.fill(0, 0, batch * ci * plane);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < ci; c++) {
      const src = (n * ci + c) * h * w;
      const dst = (n * ci + c) * plane + pw + 1;
      for (let y = 0; y < h; y++) padded.set(input.subarray(src + y * w, src + y * w + w), dst + y * pw);
    }
  }
  // Scatter form: each non-zero input adds a kernel tap times itself to a
  // position-major accumulator, so the many zero activations cost nothing.
  const wt = scratch(s, 'wt', ci * 9 * co);
  for (let o = 0; o < co; o++)
    for (let c = 0; c < ci; c++) for (let k = 0; k < 9; k++) wt[(c * 9 + k) * co + o] = weights[(o * ci + c) * 9 + k]!;
  const hwc = scratch(s, 'hwc', h * w * co);
  for (let n = 0; n < batch; n++) {
    hwc.fill(0);
    for (let c = 0; c < ci; c++) {
      const ib = (n * ci + c) * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const v = input[ib + y * w + x]!;
          if (v === 0) continue;
          for (let kh = 0; kh < 3; kh++) {
            const oy = y - kh + 1;
            if (oy < 0 || oy >= h) continue;
            for (let kw = 0; kw < 3; kw++) {
              const ox = x - kw + 1;
              if (ox < 0 || ox >= w) continue;
              const a = (oy * w + ox) * co;
              const b = (c * 9 + kh * 3 + kw) * co;
              for (let o = 0; o < co; o++) hwc[a + o] += wt[b + o]! * v;
            }
          }
        }
      }
    }
    const ob = n * co * h * w;
    const hw = h * w;
    for (let p = 0; p < hw; p++) for (let o = 0; o < co; o++) out[ob + o * hw + p] = hwc[p * co + o]!;
  }
}

const scratchBuffers = new WeakMap<ConvShape, Map<string, Float32Array>>();

function scratch(s: ConvShape, key: string, size: number): Float32Array {
  let m = scratchBuffers.get(s);
  if (!m) scratchBuffers.set(s, (m = new Map()));
  let b = m.get(key);
  if (!b || b.length !== size) m.set(key, (b = new Float32Array(size)));
  return b;
}

/**
 * Accumulates weight gradients into gradW and, if gradIn is given, writes the
 * input gradient (n * ci * h * w). gradPadded is scratch of padded size.
 */
export function conv3x3Backward(
  s: ConvShape,
  batch: number,
  padded: Float32Array,
  weights: Float32Array,
  gradOut: Float32Array,
  gradW: Float32Array,
  gradIn: Float32Array | null,
  gradPadded: Float32Array,
): void {
  const { inChannels: ci, outChannels: co, h, w } = s;
  const pw = w + 2;
  const plane = (h + 2) * pw;
  if (gradIn) gradPadded.fill(0, 0, batch * ci * plane);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < co; o++) {
      const ob = (n * co + o) * h * w;
      const wo = o * ci * 9;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const d = gradOut[ob + y * w + x]!;
          if (d === 0) continue;
          for (let c = 0; c < ci; c++) {
            const ib = (n * ci + c) * plane + y * pw + x;
            const wb = wo + c * 9;
            gradW[wb] += d * padded[ib]!;
            gradW[wb + 1] += d * padded[ib + 1]!;
            gradW[wb + 2] += d * padded[ib + 2]!;
            gradW[wb + 3] += d * padded[ib + pw]!;
            gradW[wb + 4] += d * padded[ib + pw + 1]!;
            gradW[wb + 5] += d * padded[ib + pw + 2]!;
            gradW[wb + 6] += d * padded[ib + 2 * pw]!;
            gradW[wb + 7] += d * padded[ib + 2 * pw + 1]!;
            gradW[wb + 8] += d * padded[ib + 2 * pw + 2]!;
            if (gradIn) {
              gradPadded[ib] += d * weights[wb]!;
              gradPadded[ib + 1] += d * weights[wb + 1]!;
              gradPadded[ib + 2] += d * weights[wb + 2]!;
              gradPadded[ib + pw] += d * weights[wb + 3]!;
              gradPadded[ib + pw + 1] += d * weights[wb + 4]!;
              gradPadded[ib + pw + 2] += d * weights[wb + 5]!;
              gradPadded[ib + 2 * pw] += d * weights[wb + 6]!;
              gradPadded[ib + 2 * pw + 1] += d * weights[wb + 7]!;
              gradPadded[ib + 2 * pw + 2] += d * weights[wb + 8]!;
            }
          }
        }
      }
    }
  }
  if (gradIn) {
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < ci; c++) {
        const dst = (n * ci + c) * h * w;
        const src = (n * ci + c) * plane + pw + 1;
        for (let y = 0; y < h; y++) gradIn.set(gradPadded.subarray(src + y * pw, src + y * pw + w), dst + y * w);
      }
    }
  }
}

/**
 * 2x2 max pool, stride 2, floor mode (an odd last row/column is dropped).
 * `argmax` records the input index each output came from (first maximum wins).
 */
export function maxPool2Forward(
  channels: number,
  h: number,
  w: number,
  batch: number,
  input: Float32Array,
  out: Float32Array,
  argmax: Int32Array,
): void {
  const oh = Math.floor(h / 2);
  const ow = Math.floor(w / 2);
  let o = 0;
  for (let p = 0; p < batch * channels; p++) {
    const ib = p * h * w;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const i0 = ib + 2 * y * w + 2 * x;
        let best = i0;
        let bv = input[i0]!;
        if (input[i0 + 1]! > bv) bv = input[(best = i0 + 1)]!;
        if (input[i0 + w]! > bv) bv = input[(best = i0 + w)]!;
        if (input[i0 + w + 1]! > bv) bv = input[(best = i0 + w + 1)]!;
        out[o] = bv;
        argmax[o] = best;
        o++;
      }
    }
  }
}

export function maxPool2Backward(
  outSize: number,
  gradOut: Float32Array,
  argmax: Int32Array,
  gradIn: Float32Array,
  inSize: number,
): void {
  gradIn.fill(0, 0, inSize);
  for (let o = 0; o < outSize; o++) gradIn[argmax[o]!] += gradOut[o]!;
}

/** out[n][o] = sum_i weights[o][i] * in[n][i] */
export function denseForward(
  inF: number,
  outF: number,
  batch: number,
  input: Float32Array,
  weights: Float32Array,
  out: Float32Array,
): void {
  for (let n = 0; n < batch; n++) {
    const ib = n * inF;
    for (let o = 0; o < outF; o++) {
      const wb = o * inF;
      let s = 0;
      for (let i = 0; i < inF; i++) s += weights[wb + i]! * input[ib + i]!;
      out[n * outF + o] = s;
    }
  }
}

export function denseBackward(
  inF: number,
  outF: number,
  batch: number,
  input: Float32Array,
  weights: Float32Array,
  gradOut: Float32Array,
  gradW: Float32Array,
  gradIn: Float32Array | null,
): void {
  if (gradIn) gradIn.fill(0, 0, batch * inF);
  for (let n = 0; n < batch; n++) {
    const ib = n * inF;
    for (let o = 0; o < outF; o++) {
      const d = gradOut[n * outF + o]!;
      if (d === 0) continue;
      const wb = o * inF;
      for (let i = 0; i < inF; i++) gradW[wb + i] += d * input[ib + i]!;
      if (gradIn) for (let i = 0; i < inF; i++) gradIn[ib + i] += d * weights[wb + i]!;
    }
  }
}

/**
 * Softmax cross-entropy of `scale * logits` against labels; writes d(mean loss)/d(logits)
 * and returns the mean loss and the number of top-1 hits (ties to the lowest index,
 * as the project's accuracy does).
 */
export function softmaxCrossEntropy(
  classes: number,
  batch: number,
  logits: Float32Array,
  labels: ArrayLike<number>,
  scale: number,
  grad: Float32Array,
): { loss: number; correct: number } {
  let loss = 0;
  let correct = 0;
  for (let n = 0; n < batch; n++) {
    const b = n * classes;
    let max = -Infinity;
    let arg = 0;
    for (let k = 0; k < classes; k++) {
      if (logits[b + k]! > max) {
        max = logits[b + k]!;
        arg = k;
      }
    }
    const label = labels[n]!;
    if (arg === label) correct++;
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(scale * (logits[b + k]! - max));
    loss += Math.log(sum) - scale * (logits[b + label]! - max);
    for (let k = 0; k < classes; k++) {
      const p = Math.exp(scale * (logits[b + k]! - max)) / sum;
      grad[b + k] = (scale * (p - (k === label ? 1 : 0))) / batch;
    }
  }
  return { loss: loss / batch, correct };
}
