/** Adam (Kingma & Ba) over a list of parameters; state is keyed by the value array. */

import type { Parameter } from './mnist-qat-net.js';

interface Moments {
  m: Float32Array;
  v: Float32Array;
}

export class Adam {
  private readonly state = new Map<Float32Array, Moments>();
  private step = 0;
  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {}

  update(params: Parameter[], lr: number): void {
    this.step++;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    for (const p of params) {
      let s = this.state.get(p.value);
      if (!s) {
        s = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length) };
        this.state.set(p.value, s);
      }
      const { m, v } = s;
      const { value, grad } = p;
      const clip = p.clip ?? Infinity;
      for (let i = 0; i < value.length; i++) {
        const g = grad[i]!;
        m[i] = this.beta1 * m[i]! + (1 - this.beta1) * g;
        v[i] = this.beta2 * v[i]! + (1 - this.beta2) * g * g;
        let x = value[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + this.eps);
        if (x > clip) x = clip;
        else if (x < -clip) x = -clip;
        value[i] = x;
      }
    }
  }
}
