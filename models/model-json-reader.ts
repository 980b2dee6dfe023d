/**
 * A fast path for reading model JSON, for the documents nibble writes: their
 * `weights` arrays (millions of small integers, nearly all of the 11 MB of a
 * CIFAR10NET_INT file) are read here, straight from the text's bytes into
 * Int8Arrays, and the small rest by the strict reader (arch/json.ts
 * parseJsonStrict) with each of those arrays replaced by a placeholder. V8's
 * JSON.parse spends about 65 ms on that file, most of it on the numbers, and
 * builds 2.3 M-element arrays the loader then copies into Int8Arrays.
 *
 * It only ever answers "this is the document" or "not mine" (undefined): a
 * weights array it does not take (a fraction, an exponent, a value beyond 8
 * bits, anything malformed) stays in the text for the strict reader, and when
 * the reduced document is not exactly the original's structure (a placeholder
 * landed in a string, appears twice or nests too deep) or the strict reader
 * refuses it, the caller gives the whole text to the strict reader. So every
 * error message, with its file:line:col, is the strict reader's, and a weights
 * value out of range is the loader's (Fields.weights reads both forms).
 */
import { readFileSync } from 'node:fs';
import { builtFile, JSON_MAX_DEPTH, NibbleError, parseJsonStrict } from '../arch/index.js';

/** Arrays shorter than this are left to the strict reader (a placeholder would cost more than it saves). */
const MIN_ELEMENTS = 64;
/** Placeholder i is this string with i appended: it starts with a NUL, which no file nibble writes holds. */
const MARK = '\u0000nibble-int-array-';

/** A weights array: its values as int8 and the byte offset just past its ']' (undefined: leave it to JSON.parse). */
function weightArray(
  b: Uint8Array,
  open: number,
  scratch: { a: Int8Array },
): { values: Int8Array; end: number } | undefined {
  let out = scratch.a;
  let n = 0;
  let i = open + 1;
  let c = b[i]!;
  for (;;) {
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i]!;
    const negative = c === 45;
    if (negative) c = b[++i]!;
    if (!(c >= 48 && c <= 57)) return undefined;
    let v = c - 48;
    c = b[++i]!;
    if (v === 0) {
      if (c >= 48 && c <= 57) return undefined; // a leading zero
    } else
      while (c >= 48 && c <= 57 && v < 1000) {
        v = v * 10 + (c - 48);
        c = b[++i]!;
      }
    if (negative) v = -v;
    // a fraction, an exponent, -0 or a value beyond 8 bits (the loader names it): JSON.parse's
    if (c === 46 || c === 101 || c === 69 || (c >= 48 && c <= 57) || v < -128 || v > 127 || Object.is(v, -0))
      return undefined;
    if (n === out.length) {
      const grown = new Int8Array(Math.max(1024, 2 * n));
      grown.set(out);
      out = scratch.a = grown;
    }
    out[n++] = v;
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i]!;
    if (c === 93) return { values: out.slice(0, n), end: i + 1 };
    if (c !== 44) return undefined;
    c = b[++i]!;
  }
}

interface WeightsLoop {
  /** the text's bytes at [0, len), a zero byte after them; values from `out` on */
  readonly memory: WebAssembly.Memory;
  readonly weights: (open: number, out: number) => number;
  readonly end: { value: number };
}

let loop: WeightsLoop | null | undefined;

/** The weights loop in WebAssembly (models/model-json-weights.wat), or undefined when it is not built. */
function weightsLoop(): WeightsLoop | undefined {
  if (loop === undefined) {
    loop = null;
    const file = builtFile('models/model-json-weights.wasm', import.meta.url);
    if (file) {
      const x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file))).exports;
      loop = x as unknown as WeightsLoop;
    }
  }
  return loop ?? undefined;
}

/** The weights arrays' reader over one text: the WebAssembly loop, or weightArray (its JavaScript twin). */
function arrayReader(text: string, wasm: boolean): (open: number) => { values: Int8Array; end: number } | undefined {
  const w = wasm ? weightsLoop() : undefined;
  if (!w) {
    const bytes = Buffer.from(text, 'latin1');
    const scratch = { a: new Int8Array(0) };
    return (open) => weightArray(bytes, open, scratch);
  }
  // text, a zero byte, then room for as many values as the text has commas at most (len / 2 + 1)
  const out = text.length + 16;
  const need = out + Math.ceil(text.length / 2) + 16;
  const mem = w.memory;
  if (mem.buffer.byteLength < need) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
  const buf = Buffer.from(mem.buffer, 0, out);
  buf.write(text, 0, 'latin1');
  buf.fill(0, text.length);
  return (open) => {
    const n = w.weights(open, out);
    return n < 0 ? undefined : { values: new Int8Array(mem.buffer, out, n).slice(), end: w.end.value };
  };
}

/** Put each placeholder's array in its place; false when a placeholder is not exactly one value at a legal depth. */
function fillIn(doc: unknown, arrays: Int8Array[], maxDepth: number): unknown {
  const seen = new Uint8Array(arrays.length);
  let ok = true;
  const visit = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      if (!v.startsWith(MARK)) return v;
      const k = Number(v.slice(MARK.length));
      // the array nests one level below its placeholder
      if (!(Number.isInteger(k) && k >= 0 && k < arrays.length) || seen[k] || depth + 1 > maxDepth) ok = false;
      else seen[k] = 1;
      return ok ? arrays[k] : v;
    }
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i], depth + 1);
      return v;
    }
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (key.includes(MARK)) ok = false;
      o[key] = visit(o[key], depth + 1);
    }
    return o;
  };
  const out = visit(doc, 0);
  return ok && seen.every((s) => s === 1) ? out : undefined;
}

/**
 * The value of `text` as the strict reader gives it, or undefined when the
 * caller must give the whole text to the strict reader (see above).
 */
export function readModelJsonFast(text: string, maxDepth = JSON_MAX_DEPTH, opts: { wasm?: boolean } = {}): unknown {
  // the bytes are the text in latin1, one per character: offsets in them are offsets in the text, digits are ASCII
  const read = arrayReader(text, opts.wasm ?? true);
  const pieces: string[] = [];
  const arrays: Int8Array[] = [];
  let from = 0;
  // the value of a "weights" key (inside a string the quotes would be escaped, and a placeholder put there ends
  // the string before a backslash, which no JSON allows)
  const start = /"weights":[ \t\r\n]*\[/g;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    const open = start.lastIndex - 1;
    const a = read(open);
    if (!a || a.values.length < MIN_ELEMENTS) continue;
    pieces.push(text.slice(from, open), JSON.stringify(MARK + arrays.length));
    arrays.push(a.values);
    from = a.end;
    start.lastIndex = a.end;
  }
  if (arrays.length === 0) return undefined;
  pieces.push(text.slice(from));
  let doc: unknown;
  try {
    doc = parseJsonStrict(pieces.join(''), '<reduced>', NibbleError, { maxDepth });
  } catch {
    return undefined;
  }
  return fillIn(doc, arrays, maxDepth);
}
