/**
 * Scans of a layer's int8 weights for the model checks: the range check
 * (models/layers/checks.ts, json-fields.ts) and the per-row sums behind the
 * static accumulator bound (weightedSumBound). Large arrays go through a
 * WebAssembly loop (models/weight-scan.wat, built like the GEMM kernel): as
 * JavaScript, these loops over a model's millions of weights ran mostly before
 * V8 had optimized them in a short `nibble compile` process (about 60 ms of
 * CPU on CIFAR10NET_INT's 2.3 M weights). The JavaScript loops are the
 * fallback when it is not built and the oracle of test/models/weight-scan.test.ts.
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../arch/index.js';

interface ScanModule {
  readonly memory: WebAssembly.Memory;
  readonly firstOutside: (len: number, lo: number, hi: number) => number;
  readonly rowSums: (rows: number, rowLength: number, out: number) => void;
}

/** Below this many values the JavaScript loop is as fast (and needs no copy). */
const WASM_MIN_VALUES = 4096;

let scan: ScanModule | null | undefined;

function scanModule(): ScanModule | undefined {
  if (scan === undefined) {
    scan = null;
    const file = builtFile('models/weight-scan.wasm', import.meta.url);
    if (file)
      scan = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file))).exports as unknown as ScanModule;
  }
  return scan ?? undefined;
}

/** The module with `w` copied to its memory at 0 and room for `extra` bytes after it, when it is to be used. */
function loaded(w: Int8Array, extra: number, wasm: boolean | undefined): ScanModule | undefined {
  if (wasm === false || (wasm === undefined && w.length < WASM_MIN_VALUES)) return undefined;
  const m = scanModule();
  if (!m) return undefined;
  const need = w.length + extra;
  if (m.memory.buffer.byteLength < need) m.memory.grow(Math.ceil((need - m.memory.buffer.byteLength) / 65536));
  new Int8Array(m.memory.buffer, 0, w.length).set(w);
  return m;
}

/** Index of the first value of `w` outside [lo, hi], or -1. `wasm` forces (true) or avoids (false) the WebAssembly loop. */
export function firstOutside(w: Int8Array, lo: number, hi: number, opts: { wasm?: boolean } = {}): number {
  // an int8 is always inside [-128, 127]: clamping keeps the WebAssembly splat exact
  const l = Math.max(lo, -128);
  const h = Math.min(hi, 127);
  if (l > h) return w.length > 0 ? 0 : -1;
  const m = loaded(w, 0, opts.wasm);
  if (m) return m.firstOutside(w.length, l, h);
  for (let i = 0; i < w.length; i++) if (w[i]! < l || w[i]! > h) return i;
  return -1;
}

/** Per row of `rowLength` values (rows * rowLength of `w`): the sum and the sum of absolute values. */
export function rowSums(
  w: Int8Array,
  rows: number,
  rowLength: number,
  opts: { wasm?: boolean } = {},
): { sum: Float64Array; sumAbs: Float64Array } {
  const sum = new Float64Array(rows);
  const sumAbs = new Float64Array(rows);
  // the kernel's i32 sums hold 128 * rowLength
  const m = rowLength <= 2 ** 24 && rows * rowLength <= w.length ? loaded(w, 8 * rows + 8, opts.wasm) : undefined;
  if (m) {
    const out = (w.length + 7) & ~7;
    m.rowSums(rows, rowLength, out);
    const r = new Int32Array(m.memory.buffer, out, 2 * rows);
    for (let i = 0; i < rows; i++) {
      sum[i] = r[2 * i]!;
      sumAbs[i] = r[2 * i + 1]!;
    }
    return { sum, sumAbs };
  }
  for (let r = 0; r < rows; r++) {
    let s = 0;
    let a = 0;
    const end = (r + 1) * rowLength;
    for (let i = r * rowLength; i < end; i++) {
      const v = w[i]!;
      s += v;
      a += v < 0 ? -v : v;
    }
    sum[r] = s;
    sumAbs[r] = a;
  }
  return { sum, sumAbs };
}
