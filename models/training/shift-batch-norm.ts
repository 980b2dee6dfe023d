/**
 * The paper's shift batch-normalisation fused with the activation quantiser:
 *
 *   y = clamp(floor((acc - bias) / 2^shift), lo, hi)      per channel
 *
 * It trains in two modes:
 *  - 'batch': like batch norm, the divisor and centre come from batch
 *    statistics. shift = round(log2(std / gain)) makes one standard deviation
 *    about `gain` output levels (the power-of-two constraint replaces BN's
 *    learned scale), bias = mean - beta * 2^shift with beta learned in output
 *    levels. Running statistics are tracked for freezing.
 *  - 'frozen': shift is a fixed integer per channel and bias = round(t * 2^shift)
 *    with t learned (in output levels, so one learning rate suits every layer).
 *    The forward pass is then exactly the integer requant the hardware runs.
 *
 * Gradients use the straight-through estimator: floor and the rounding of
 * bias pass gradients unchanged; clamp passes none outside [lo, hi + 1), except
 * on the output layer ('outward'), where a saturated value still receives a
 * gradient that pushes it back inside - otherwise a wrong class stuck at the
 * top of the range could never come down and would tie with the right one.
 */

export type NormMode = 'batch' | 'frozen';

const EPS = 1;
const MOMENTUM = 0.1;

export class ShiftBatchNorm {
  readonly channels: number;
  readonly lo: number;
  readonly hi: number;
  readonly gain: number;
  readonly outward: boolean;
  mode: NormMode = 'batch';
  /** batch mode: learned offset in output levels */
  readonly beta: Float32Array;
  readonly gradBeta: Float32Array;
  readonly runMean: Float64Array;
  readonly runVar: Float64Array;
  /** frozen mode: fixed shift and learned bias / 2^shift */
  readonly shift: Int32Array;
  readonly t: Float32Array;
  readonly gradT: Float32Array;
  /** per-forward state for backward */
  private readonly effShift: Int32Array;
  private readonly effBias: Float64Array;
  private z: Float32Array = new Float32Array(0);
  private lastBatchStats = false;

  constructor(channels: number, range: { lo: number; hi: number }, gain: number, outward = false) {
    this.channels = channels;
    this.lo = range.lo;
    this.hi = range.hi;
    this.gain = gain;
    this.outward = outward;
    this.beta = new Float32Array(channels);
    this.gradBeta = new Float32Array(channels);
    this.runMean = new Float64Array(channels);
    this.runVar = new Float64Array(channels).fill(1);
    this.shift = new Int32Array(channels);
    this.t = new Float32Array(channels);
    this.gradT = new Float32Array(channels);
    this.effShift = new Int32Array(channels);
    this.effBias = new Float64Array(channels);
  }

  private shiftFor(variance: number): number {
    return Math.round(Math.log2(Math.sqrt(variance + EPS) / this.gain));
  }

  /** Integer (bias, shift) per channel as the requant layer will hold them. */
  integerParams(): { bias: Int32Array; shift: Int8Array } {
    if (this.mode !== 'frozen') this.freeze();
    const bias = new Int32Array(this.channels);
    const shift = new Int8Array(this.channels);
    for (let c = 0; c < this.channels; c++) {
      bias[c] = Math.round(this.t[c]! * 2 ** this.shift[c]!);
      shift[c] = this.shift[c]!;
    }
    return { bias, shift };
  }

  /** Switch to frozen mode from the running statistics (same function, integer bias). */
  freeze(): void {
    if (this.mode === 'frozen') return;
    for (let c = 0; c < this.channels; c++) {
      const k = this.shiftFor(this.runVar[c]!);
      this.shift[c] = k;
      this.t[c] = this.runMean[c]! / 2 ** k - this.beta[c]!;
    }
    this.mode = 'frozen';
  }

  /** acc, out: batch * channels * spatial values. */
  forward(acc: Float32Array, batch: number, spatial: number, out: Float32Array, training: boolean): void {
    const C = this.channels;
    const size = batch * C * spatial;
    if (this.z.length < size) this.z = new Float32Array(size);
    this.lastBatchStats = this.mode === 'batch' && training;
    if (this.mode === 'frozen') {
      for (let c = 0; c < C; c++) {
        this.effShift[c] = this.shift[c]!;
        this.effBias[c] = Math.round(this.t[c]! * 2 ** this.shift[c]!);
      }
    } else if (training) {
      const count = batch * spatial;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        let sq = 0;
        for (let n = 0; n < batch; n++) {
          const b = (n * C + c) * spatial;
          for (let i = 0; i < spatial; i++) {
            const v = acc[b + i]!;
            sum += v;
            sq += v * v;
          }
        }
        const mean = sum / count;
        const variance = Math.max(0, sq / count - mean * mean);
        this.runMean[c] = (1 - MOMENTUM) * this.runMean[c]! + MOMENTUM * mean;
        this.runVar[c] = (1 - MOMENTUM) * this.runVar[c]! + MOMENTUM * variance;
        const k = this.shiftFor(variance);
        this.effShift[c] = k;
        this.effBias[c] = mean - this.beta[c]! * 2 ** k;
      }
    } else {
      for (let c = 0; c < C; c++) {
        const k = this.shiftFor(this.runVar[c]!);
        this.effShift[c] = k;
        this.effBias[c] = this.runMean[c]! - this.beta[c]! * 2 ** k;
      }
    }
    const { lo, hi } = this;
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < C; c++) {
        const b = (n * C + c) * spatial;
        const inv = 2 ** -this.effShift[c]!;
        const bias = this.effBias[c]!;
        for (let i = 0; i < spatial; i++) {
          const z = (acc[b + i]! - bias) * inv;
          this.z[b + i] = z;
          const y = Math.floor(z);
          out[b + i] = y < lo ? lo : y > hi ? hi : y;
        }
      }
    }
  }

  /** Writes d loss / d acc into gradAcc and accumulates parameter gradients. */
  backward(gradOut: Float32Array, batch: number, spatial: number, gradAcc: Float32Array): void {
    const C = this.channels;
    const lo = this.lo;
    const top = this.hi + 1;
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < C; c++) {
        const b = (n * C + c) * spatial;
        for (let i = 0; i < spatial; i++) {
          const z = this.z[b + i]!;
          const d = gradOut[b + i]!;
          const pass = (z >= lo && z < top) || (this.outward && ((z >= top && d > 0) || (z < lo && d < 0)));
          gradAcc[b + i] = pass ? d : 0;
        }
      }
    }
    // gradAcc now holds d/dz; turn it into d/dacc.
    const count = batch * spatial;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let n = 0; n < batch; n++) {
        const b = (n * C + c) * spatial;
        for (let i = 0; i < spatial; i++) sum += gradAcc[b + i]!;
      }
      const inv = 2 ** -this.effShift[c]!;
      // batch stats: z depends on acc through the mean too; shift is piecewise constant.
      const centre = this.lastBatchStats ? sum / count : 0;
      if (this.mode === 'frozen') this.gradT[c] += -sum;
      else this.gradBeta[c] += sum;
      for (let n = 0; n < batch; n++) {
        const b = (n * C + c) * spatial;
        for (let i = 0; i < spatial; i++) gradAcc[b + i] = (gradAcc[b + i]! - centre) * inv;
      }
    }
  }
}
