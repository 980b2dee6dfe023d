/**
 * Fitting one channel of a shift-batch-norm requant to a quantizer.
 *
 * The quantizer the model asks for is, as a function of the integer
 * accumulator, a non-decreasing staircase t(acc) (any rounding mode, any
 * scale, folded BatchNorm, clamps: only its thresholds matter, because acc is
 * an integer). The machine computes
 *
 *   u(acc) = clamp(floor((m*acc - bias) / 2^shift), lo, hi)
 *
 * with an integer weight multiplier m (the channel's weights are scaled by m,
 * which is free where the model's weights use fewer bits than the machine's),
 * an integer bias and a shift. u's thresholds are ceil((bias + j*2^shift) / m)
 * for code j. The fit is exact when some (m, shift, bias) puts every threshold
 * the reachable accumulators can cross exactly where t has it; a power-of-two
 * scale ratio is the common case, but not the only one (a 2-bit output has
 * just three thresholds). Otherwise the fit minimises the number of
 * accumulator values (weighted by a histogram when calibration data is given)
 * that land on a different code, and reports it.
 *
 * Reachable accumulators are g*x for integers x in [xLo, xHi] (g: the gcd of
 * the channel's weights; the range: the static bound from weights and input
 * ranges), so thresholds are placed in x units.
 */

export interface FitProblem {
  g: number;
  xLo: number;
  xHi: number;
  /** target code of x (already offset into the requant's code range); non-decreasing */
  target(x: number): number;
  clampLo: number;
  clampHi: number;
  maxMultiplier: number;
  /** sorted distinct x values seen on calibration data, with counts (weights the inexact cost) */
  histogram?: { xs: Float64Array; counts: Float64Array };
  /**
   * Solutions to try first: the model's own parameters when its scale ratio
   * is a power of two, so that an exact model keeps its bias and shift (and
   * an exported network imports back identically).
   */
  preferred?: { m: number; shift: number; bias: number }[];
}

export interface FitResult {
  m: number;
  shift: number;
  bias: number;
  exact: boolean;
  /** accumulator values (or calibration samples, with a histogram) whose code differs */
  wrong: number;
  /** of how many (the x range, or the calibration samples) */
  total: number;
  /** realized code step in accumulator units (2^shift / m), for the report */
  step: number;
}

const MAX_SHIFT = 31;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

interface Threshold {
  /** code j of the requant */
  j: number;
  /** G_j must lie in [p, q] (x units; -Infinity / Infinity for open ends) */
  p: number;
  q: number;
  /** where the target has it (for the cost); p..q collapse to it for interior thresholds */
  at: number;
}

/** Smallest x in [lo, hi+1] with target(x) >= level (hi+1 if none). */
function firstAtLeast(t: (x: number) => number, level: number, lo: number, hi: number): number {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (t(mid) >= level) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** The constraints an exact fit must meet, or null if the target leaves the code range. */
export function thresholds(pb: FitProblem): Threshold[] | null {
  const v0 = pb.target(pb.xLo);
  const v1 = pb.target(pb.xHi);
  if (v0 < pb.clampLo || v1 > pb.clampHi) return null;
  const out: Threshold[] = [];
  if (v0 > pb.clampLo) out.push({ j: v0, p: -Infinity, q: pb.xLo, at: pb.xLo });
  for (let j = v0 + 1; j <= v1; j++) {
    const at = firstAtLeast(pb.target, j, pb.xLo, pb.xHi);
    out.push({ j, p: at, q: at, at });
  }
  if (v1 < pb.clampHi) out.push({ j: v1 + 1, p: pb.xHi + 1, q: Infinity, at: pb.xHi + 1 });
  return out;
}

/** Integer biases putting G_j = ceil((bias + j*2^s)/(m*g)) inside [p, q]. */
function biasInterval(th: Threshold, mg: number, step: number): [number, number] {
  const off = th.j * step;
  const lo = th.p === -Infinity ? -Infinity : Math.floor((th.p - 1) * mg - off) + 1;
  const hi = th.q === Infinity ? Infinity : Math.floor(th.q * mg - off);
  return [lo, hi];
}

function codeThreshold(bias: number, j: number, mg: number, step: number): number {
  return Math.ceil((bias + j * step) / mg);
}

/** Weighted count of x in [a, b). */
function mass(pb: FitProblem, a: number, b: number): number {
  const lo = Math.max(a, pb.xLo);
  const hi = Math.min(b, pb.xHi + 1);
  if (hi <= lo) return 0;
  const h = pb.histogram;
  if (!h) return hi - lo;
  const idx = (v: number) => {
    let l = 0;
    let r = h.xs.length;
    while (l < r) {
      const mid = (l + r) >> 1;
      if (h.xs[mid]! < v) l = mid + 1;
      else r = mid;
    }
    return l;
  };
  let s = 0;
  for (let i = idx(lo), e = idx(hi); i < e; i++) s += h.counts[i]!;
  return s;
}

function cost(pb: FitProblem, ths: Threshold[], bias: number, mg: number, step: number): number {
  let c = 0;
  for (const th of ths) {
    const gj = codeThreshold(bias, th.j, mg, step);
    if (th.p === -Infinity) c += mass(pb, pb.xLo, Math.min(gj, pb.xHi + 1));
    else if (th.q === Infinity) c += mass(pb, Math.max(gj, pb.xLo), pb.xHi + 1);
    else c += mass(pb, Math.min(gj, th.at), Math.max(gj, th.at));
  }
  return c;
}

/** Shifts worth trying for multiplier m: all of them when the slope is free, else those near it. */
function shiftCandidates(ths: Threshold[], mg: number): number[] {
  const interior = ths.filter((t) => t.p === t.q);
  const all = Array.from({ length: 2 * MAX_SHIFT + 1 }, (_, i) => i - MAX_SHIFT);
  if (interior.length < 2) return all;
  const first = interior[0]!;
  const last = interior[interior.length - 1]!;
  const slope = (last.at - first.at) / (last.j - first.j); // x units per code step
  if (slope <= 0) return all.filter((s) => s <= -MAX_SHIFT + 8);
  const ideal = Math.log2(slope * mg);
  const base = Math.round(ideal);
  return [base - 2, base - 1, base, base + 1, base + 2].filter((s) => s >= -MAX_SHIFT && s <= MAX_SHIFT);
}

function totalOf(pb: FitProblem): number {
  return pb.histogram ? pb.histogram.counts.reduce((a, b) => a + b, 0) : pb.xHi - pb.xLo + 1;
}

/** Fit one channel; null when no requant can hold the target's code range (it leaves [clampLo, clampHi]). */
function satisfies(ths: Threshold[], mg: number, step: number, bias: number): boolean {
  return ths.every((th) => {
    const [a, b] = biasInterval(th, mg, step);
    return bias >= a && bias <= b;
  });
}

export function fitChannel(pb: FitProblem): FitResult | null {
  const ths = thresholds(pb);
  if (!ths) return null;
  const total = totalOf(pb);
  for (const p of pb.preferred ?? []) {
    if (p.m > pb.maxMultiplier || Math.abs(p.shift) > MAX_SHIFT || p.bias < INT32_MIN || p.bias > INT32_MAX) continue;
    if (satisfies(ths, p.m * pb.g, 2 ** p.shift, p.bias)) {
      return { ...p, exact: true, wrong: 0, total, step: 2 ** p.shift / p.m };
    }
  }
  let best: FitResult | null = null;
  const maxAcc = Math.max(Math.abs(pb.xLo), Math.abs(pb.xHi)) * pb.g;
  for (let m = 1; m <= pb.maxMultiplier; m++) {
    if (m * maxAcc > INT32_MAX) break;
    const mg = m * pb.g;
    for (const s of shiftCandidates(ths, mg)) {
      const step = 2 ** s;
      let lo = INT32_MIN;
      let hi = INT32_MAX;
      for (const th of ths) {
        const [a, b] = biasInterval(th, mg, step);
        if (a > lo) lo = a;
        if (b < hi) hi = b;
        if (lo > hi) break;
      }
      if (lo <= hi) {
        // exact: prefer the smallest multiplier, then the largest shift (the cheapest arithmetic)
        const bias = lo === -Infinity ? (hi === Infinity ? 0 : hi) : lo;
        const r: FitResult = { m, shift: s, bias, exact: true, wrong: 0, total, step: step / m };
        if (!best || !best.exact || (best.m === m && s > best.shift)) best = r;
        continue;
      }
      if (best?.exact) continue;
      const r = bestInexact(pb, ths, m, mg, s, step, total);
      if (r && (!best || r.wrong < best.wrong)) best = r;
    }
    if (best?.exact) return best;
  }
  return best;
}

function bestInexact(
  pb: FitProblem,
  ths: Threshold[],
  m: number,
  mg: number,
  s: number,
  step: number,
  total: number,
): FitResult | null {
  const mids: number[] = [];
  for (const th of ths) {
    const [a, b] = biasInterval(th, mg, step);
    if (Number.isFinite(a) && Number.isFinite(b)) mids.push(Math.round((a + b) / 2), a, b);
    else if (Number.isFinite(a)) mids.push(a);
    else if (Number.isFinite(b)) mids.push(b);
  }
  if (mids.length === 0) mids.push(0);
  mids.sort((x, y) => x - y);
  const picks = new Set<number>();
  const take = Math.min(mids.length, 48);
  for (let k = 0; k < take; k++) picks.add(mids[Math.floor((k * (mids.length - 1)) / Math.max(1, take - 1))]!);
  picks.add(mids[Math.floor(mids.length / 2)]!);
  let best: FitResult | null = null;
  for (const b of picks) {
    if (b < INT32_MIN || b > INT32_MAX) continue;
    const c = cost(pb, ths, b, mg, step);
    if (!best || c < best.wrong) best = { m, shift: s, bias: b, exact: false, wrong: c, total, step: step / m };
  }
  return best;
}
