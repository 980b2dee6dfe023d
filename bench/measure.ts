/**
 * Wall-clock and memory measurement. Timings use performance.now(); memory is
 * sampled (process.memoryUsage().rss) after every measured step, because the
 * measured code is synchronous and a timer could never fire inside it.
 */

export class RssSampler {
  private peakBytes = 0;

  constructor() {
    this.sample();
  }

  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peakBytes) this.peakBytes = rss;
  }

  get peakMiB(): number {
    return this.peakBytes / (1 << 20);
  }
}

export interface Timed<T> {
  /** result of the last run */
  value: T;
  /** mean wall time of the measured runs */
  ms: number;
  /** mean CPU time of the measured runs (this process, all threads) */
  cpuMs: number;
  /** measured runs (the cold first run is excluded whenever there was time for more) */
  runs: number;
  /** wall time of the first (cold, JIT-warming) run */
  firstMs: number;
}

export interface RepeatOptions {
  /** keep repeating warm runs until they add up to this (default 1000 ms) */
  minMs?: number;
  /** at most this many warm runs (default 50) */
  maxRuns?: number;
  /** a first run slower than this is reported on its own, without repeats (default 3000 ms) */
  slowMs?: number;
  /** discard warm-up runs until they add up to this (default 300 ms), so the JIT's optimizing tier is measured, not its warm-up */
  warmupMs?: number;
  sampler?: RssSampler;
}

/**
 * Time `fn`: one cold run, warm-up runs (discarded) until warmupMs have passed,
 * then measured runs until minMs have passed; a cold run slower than slowMs is
 * the figure by itself (its JIT share is then small).
 */
export function timeRepeated<T>(fn: () => T, opts: RepeatOptions = {}): Timed<T> {
  const minMs = opts.minMs ?? 1000;
  const maxRuns = opts.maxRuns ?? 50;
  const slowMs = opts.slowMs ?? 3000;
  const warmupMs = opts.warmupMs ?? 300;
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  let c0 = process.cpuUsage();
  let t0 = performance.now();
  let value = fn();
  const firstMs = performance.now() - t0;
  const firstCpu = cpuMs(process.cpuUsage(c0));
  opts.sampler?.sample();
  if (firstMs >= slowMs || maxRuns < 1) return { value, ms: firstMs, cpuMs: firstCpu, runs: 1, firstMs };
  // the cold run above counts toward the warm-up; a cold run slower than warmupMs means no further warm-up
  for (let warm = firstMs, n = 0; warm < warmupMs && n < maxRuns; n++) {
    t0 = performance.now();
    fn();
    warm += performance.now() - t0;
  }
  let total = 0;
  let runs = 0;
  c0 = process.cpuUsage();
  while (runs < maxRuns && (total < minMs || runs === 0)) {
    t0 = performance.now();
    value = fn();
    total += performance.now() - t0;
    runs++;
    opts.sampler?.sample(); // cheap (a syscall); its time stays out of `total`
  }
  return { value, ms: total / runs, cpuMs: cpuMs(process.cpuUsage(c0)) / runs, runs, firstMs };
}

/** Time one run: wall time, and this process's CPU time (all its threads, GC included). */
export function timeOnce<T>(fn: () => T, sampler?: RssSampler): { value: T; ms: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  sampler?.sample();
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}
