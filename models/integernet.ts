/**
 * Importer for IntegerNet's raw text export (the authors' `raw.py`, see
 * /work/shared/reference/README.md). The file is a flat stream of
 * whitespace-separated tokens:
 *
 *   CONV CO n CI n H n W n      + CO*CI*3*3 weights [co][ci][kh][kw] (3x3, stride 1, pad 1)
 *   UNSIGNEDQUAN|SIGNEDQUAN C n H n W n  + BIAS c ints + SHIFT c ints
 *   POOL C n H n W n            (2x2 max pool, stride 2, floor)
 *   FC CI n CO n                + CI*CO weights [ci][co]
 *   RELU C n H n W n            (max(x, 0))
 *
 * H/W in headers are the record's input size; they are checked against the
 * shape the previous records produce, so a corrupt header is caught where it
 * is, not several layers later. The file does not record activation or input
 * widths; they come from the options (4-bit activations, 8-bit pixels by default).
 *
 * RELU has no IR layer. It is mapped exactly where that is possible:
 *  - on unsigned activations it is the identity and is dropped;
 *  - on signed activations it turns the signed b-bit requant that produced
 *    them (possibly through pools) into an unsigned (b-1)-bit requant: both
 *    give max(0, clamp(q, -(2^(b-1)-1), 2^(b-1)-1)) = clamp(q, 0, 2^(b-1)-1);
 *  - on accumulators it is dropped when the next requant (past any POOLs) is
 *    unsigned with every bias >= 0, since then negative accumulators already
 *    map to 0; otherwise it is rejected as unsupported.
 */

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ModelError } from '../arch/index.js';
import {
  MAX_SHIFT,
  formatShape,
  signedRange,
  type InputSpec,
  type Layer,
  type Network,
  type TensorShape,
} from './ir.js';
import { analyzeNetwork } from './analysis.js';
import { squareConv2d } from './layers/conv2d.js';
import type { RequantLayer } from './layers/requant.js';

export interface IntegerNetOptions {
  /** file name used in error messages (default '<integernet>') */
  file?: string;
  /** network name (default 'integernet'; loadIntegerNetFile uses the file name) */
  name?: string;
  /** width of the unsigned input pixels (default 8) */
  inputBits?: 4 | 8;
  /** weight width; weights must lie in [-(2^(b-1)-1), 2^(b-1)-1] (default 4) */
  weightBits?: number;
  /** width of requant outputs (the file does not record it; default 4) */
  activationBits?: number;
  /** default 32 */
  accumulatorBits?: number;
}

const RECORDS = ['CONV', 'UNSIGNEDQUAN', 'SIGNEDQUAN', 'POOL', 'FC', 'RELU'] as const;
type RecordKind = (typeof RECORDS)[number];
const HEADER_KEYS: Record<RecordKind, string[]> = {
  CONV: ['CO', 'CI', 'H', 'W'],
  UNSIGNEDQUAN: ['C', 'H', 'W'],
  SIGNEDQUAN: ['C', 'H', 'W'],
  POOL: ['C', 'H', 'W'],
  FC: ['CI', 'CO'],
  RELU: ['C', 'H', 'W'],
};

interface Token {
  text: string;
  line: number;
}

interface RawRecord {
  kind: RecordKind;
  line: number;
  header: Record<string, number>;
  weights?: number[];
  bias?: number[];
  shift?: number[];
}

const INTEGER = /^[+-]?\d+$/;

function isRecordKeyword(t: string): t is RecordKind {
  return (RECORDS as readonly string[]).includes(t);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    for (const t of lines[i]!.split(/[ \t\f\v\r]+/)) if (t !== '') tokens.push({ text: t, line: i + 1 });
  }
  return tokens;
}

class RecordParser {
  private pos = 0;
  private previous: RawRecord | undefined;
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
    private readonly weightBits: number,
  ) {}

  private fail(line: number, message: string): never {
    throw new ModelError(message, `${this.file}:${line}`);
  }

  private lastLine(): number {
    return this.tokens.length === 0 ? 1 : this.tokens[this.tokens.length - 1]!.line;
  }

  parse(): RawRecord[] {
    const records: RawRecord[] = [];
    while (this.pos < this.tokens.length) {
      const rec = this.record();
      records.push(rec);
      this.previous = rec;
    }
    if (records.length === 0) this.fail(1, 'no records: the file is empty');
    return records;
  }

  private record(): RawRecord {
    const tok = this.tokens[this.pos++]!;
    if (!isRecordKeyword(tok.text)) {
      if (INTEGER.test(tok.text) && this.previous !== undefined) {
        this.fail(
          tok.line,
          `unexpected value '${tok.text}' where a record keyword was expected: the ${this.previous.kind} record at line ${this.previous.line} has more values than its header declares`,
        );
      }
      this.fail(tok.line, `unknown record '${tok.text}' (expected one of ${RECORDS.join(', ')})`);
    }
    const kind = tok.text;
    const header: Record<string, number> = {};
    for (const key of HEADER_KEYS[kind]) {
      const k = this.tokens[this.pos];
      if (k === undefined) this.fail(this.lastLine(), `truncated ${kind} header (line ${tok.line}): missing '${key}'`);
      if (k.text !== key) this.fail(k.line, `${kind} header: expected '${key}', got '${k.text}'`);
      this.pos++;
      const v = this.tokens[this.pos];
      if (v === undefined)
        this.fail(this.lastLine(), `truncated ${kind} header (line ${tok.line}): missing the value of ${key}`);
      this.pos++;
      const n = INTEGER.test(v.text) ? Number(v.text) : NaN;
      if (!Number.isSafeInteger(n) || n < 1) {
        this.fail(v.line, `${kind} header: ${key} must be a positive integer, got '${v.text}'`);
      }
      header[key] = n;
    }
    const rec: RawRecord = { kind, line: tok.line, header };
    const wRange = signedRange(this.weightBits);
    if (kind === 'CONV') {
      const { CO, CI } = header as { CO: number; CI: number };
      rec.weights = this.integers(
        CO * CI * 9,
        `${kind} record (line ${tok.line})`,
        `weights (CO ${CO} x CI ${CI} x 3 x 3)`,
        wRange,
        'weight',
      );
    } else if (kind === 'FC') {
      const { CO, CI } = header as { CO: number; CI: number };
      rec.weights = this.integers(
        CI * CO,
        `${kind} record (line ${tok.line})`,
        `weights (CI ${CI} x CO ${CO})`,
        wRange,
        'weight',
      );
    } else if (kind === 'UNSIGNEDQUAN' || kind === 'SIGNEDQUAN') {
      const C = header['C']!;
      const what = `${kind} record (line ${tok.line})`;
      this.keyword('BIAS', what);
      rec.bias = this.integers(C, what, `BIAS values (C ${C})`, { lo: -(2 ** 31), hi: 2 ** 31 - 1 }, 'bias');
      this.keyword('SHIFT', what);
      rec.shift = this.integers(C, what, `SHIFT values (C ${C})`, { lo: -MAX_SHIFT, hi: MAX_SHIFT }, 'shift');
    }
    return rec;
  }

  private keyword(word: string, what: string): void {
    const t = this.tokens[this.pos];
    if (t === undefined) this.fail(this.lastLine(), `truncated ${what}: missing '${word}'`);
    if (t.text !== word) this.fail(t.line, `${what}: expected '${word}', got '${t.text}'`);
    this.pos++;
  }

  private integers(
    count: number,
    what: string,
    desc: string,
    range: { lo: number; hi: number },
    valueName: string,
  ): number[] {
    const out: number[] = [];
    while (out.length < count) {
      const t = this.tokens[this.pos];
      if (t === undefined || isRecordKeyword(t.text) || t.text === 'BIAS' || t.text === 'SHIFT') {
        // point at where the payload ends, i.e. where the missing values belong
        const line = this.tokens[this.pos - 1]!.line;
        this.fail(line, `truncated ${what}: declares ${count} ${desc} but only ${out.length} follow`);
      }
      this.pos++;
      const n = INTEGER.test(t.text) ? Number(t.text) : NaN;
      if (!Number.isSafeInteger(n)) {
        this.fail(t.line, `${what}: ${valueName} ${out.length + 1} of ${count} is not an integer: '${t.text}'`);
      }
      if (n < range.lo || n > range.hi) {
        const extra = valueName === 'weight' ? ` for ${this.weightBits}-bit weights` : '';
        this.fail(
          t.line,
          `${what}: ${valueName} ${out.length + 1} of ${count} is ${n}, outside [${range.lo}, ${range.hi}]${extra}`,
        );
      }
      out.push(n);
    }
    return out;
  }
}

/** Parse IntegerNet raw text into a validated Network. Errors name `file:line`. */
export function parseIntegerNet(text: string, opts: IntegerNetOptions = {}): Network {
  const file = opts.file ?? '<integernet>';
  const weightBits = opts.weightBits ?? 4;
  const activationBits = opts.activationBits ?? 4;
  const inputBits = opts.inputBits ?? 8;
  const records = new RecordParser(tokenize(text), file, weightBits).parse();
  const fail = (line: number, message: string): never => {
    throw new ModelError(message, `${file}:${line}`);
  };

  const first = records[0]!;
  const h0 = first.header;
  const input: InputSpec =
    first.kind === 'FC'
      ? { channels: h0['CI']!, height: 1, width: 1, bits: inputBits, signed: false }
      : { channels: (h0['CI'] ?? h0['C'])!, height: h0['H']!, width: h0['W']!, bits: inputBits, signed: false };

  const layers: Layer[] = [];
  const layerLines: number[] = [];
  const counters = { conv: 0, requant: 0, pool: 0, fc: 0 };
  let shape: TensorShape = { c: input.channels, h: input.height, w: input.width };
  /** what the current value is: narrow activations (signed or not) or accumulators */
  let value: 'unsigned' | 'signed' | 'acc' = 'unsigned';
  let flattened = false;
  const push = (layer: Layer, line: number) => {
    layers.push(layer);
    layerLines.push(line);
  };
  const checkHeader = (rec: RawRecord, c: number, h: number, w: number) => {
    if (c !== shape.c || h !== shape.h || w !== shape.w) {
      const hd = rec.header;
      const said = HEADER_KEYS[rec.kind].map((k) => `${k} ${hd[k]}`).join(' ');
      fail(rec.line, `${rec.kind} header says ${said}, but the previous records produce ${formatShape(shape)}`);
    }
  };

  for (let r = 0; r < records.length; r++) {
    const rec = records[r]!;
    const hd = rec.header;
    switch (rec.kind) {
      case 'CONV': {
        checkHeader(rec, hd['CI']!, hd['H']!, hd['W']!);
        if (value === 'acc') fail(rec.line, 'CONV applied to accumulators: a requant must come first');
        const n = ++counters.conv;
        push(squareConv2d(`conv${n}`, hd['CI']!, hd['CO']!, 3, 1, 1, Int8Array.from(rec.weights!)), rec.line);
        shape = { c: hd['CO']!, h: shape.h, w: shape.w };
        value = 'acc';
        break;
      }
      case 'UNSIGNEDQUAN':
      case 'SIGNEDQUAN': {
        checkHeader(rec, hd['C']!, hd['H']!, hd['W']!);
        if (value !== 'acc') fail(rec.line, `${rec.kind} applied to activations: it must follow a CONV or FC`);
        const signed = rec.kind === 'SIGNEDQUAN';
        push(
          {
            kind: 'requant',
            name: `requant${++counters.requant}`,
            signed,
            bits: activationBits,
            bias: Int32Array.from(rec.bias!),
            shift: Int8Array.from(rec.shift!),
          },
          rec.line,
        );
        value = signed ? 'signed' : 'unsigned';
        break;
      }
      case 'POOL': {
        checkHeader(rec, hd['C']!, hd['H']!, hd['W']!);
        if (shape.h < 2 || shape.w < 2) fail(rec.line, `POOL 2x2 does not fit the ${shape.h}x${shape.w} input`);
        push({ kind: 'maxpool', name: `pool${++counters.pool}`, kernel: 2, stride: 2 }, rec.line);
        shape = { c: shape.c, h: Math.floor(shape.h / 2), w: Math.floor(shape.w / 2) };
        break;
      }
      case 'FC': {
        if (!flattened && layers.length > 0) {
          // raw.py reshapes to (N, C*H*W) after the conv section, before the first FC.
          push({ kind: 'flatten', name: 'flatten' }, rec.line);
          shape = { c: shape.c * shape.h * shape.w, h: 1, w: 1 };
        }
        flattened = true;
        const ci = hd['CI']!;
        const co = hd['CO']!;
        if (ci !== shape.c || shape.h !== 1 || shape.w !== 1) {
          fail(
            rec.line,
            `FC header says CI ${ci}, but the previous records produce ${shape.c * shape.h * shape.w} features`,
          );
        }
        if (value === 'acc') fail(rec.line, 'FC applied to accumulators: a requant must come first');
        // file order [ci][co] -> IR order [co][ci]
        const w = new Int8Array(ci * co);
        const src = rec.weights!;
        for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) w[o * ci + i] = src[i * co + o]!;
        push({ kind: 'dense', name: `fc${++counters.fc}`, inFeatures: ci, outFeatures: co, weights: w }, rec.line);
        shape = { c: co, h: 1, w: 1 };
        value = 'acc';
        break;
      }
      case 'RELU': {
        checkHeader(rec, hd['C']!, hd['H']!, hd['W']!);
        if (value === 'unsigned') break; // identity on unsigned activations
        if (value === 'signed') {
          let i = layers.length - 1;
          while (i >= 0 && (layers[i]!.kind === 'maxpool' || layers[i]!.kind === 'flatten')) i--;
          const rq = layers[i] as RequantLayer;
          if (rq.bits < 3) fail(rec.line, `RELU after a ${rq.bits}-bit signed requant would leave less than 1 bit`);
          rq.signed = false;
          rq.bits -= 1;
          value = 'unsigned';
          break;
        }
        let next = r + 1;
        while (next < records.length && (records[next]!.kind === 'POOL' || records[next]!.kind === 'RELU')) next++;
        const q = records[next];
        if (q === undefined || q.kind !== 'UNSIGNEDQUAN' || q.bias!.some((b) => b < 0)) {
          fail(
            rec.line,
            'unsupported: RELU on accumulators can only be imported when the next requant is UNSIGNEDQUAN with all biases >= 0 (then it has no effect)',
          );
        }
        break;
      }
      default: {
        // every RecordKind has a case above: a new kind is a compile error here, not a silently skipped record
        const unhandled: never = rec.kind;
        throw new Error(`internal: unhandled IntegerNet record kind ${String(unhandled)}`);
      }
    }
  }

  const net: Network = {
    name: opts.name ?? 'integernet',
    input,
    layers,
    weightBits,
    accumulatorBits: opts.accumulatorBits ?? 32,
  };
  try {
    analyzeNetwork(net);
  } catch (e) {
    if (e instanceof ModelError && e.where !== undefined) {
      const m = /^layer (\d+) /.exec(e.where);
      const line = m ? layerLines[Number(m[1])] : undefined;
      const reason = e.message.slice(e.where.length + 2);
      throw new ModelError(`${e.where}: ${reason}`, line !== undefined ? `${file}:${line}` : file);
    }
    throw e;
  }
  return net;
}

/** Read and parse an IntegerNet raw text file. */
export function loadIntegerNetFile(path: string, opts: Omit<IntegerNetOptions, 'file'> = {}): Network {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? 'file not found' : `cannot read file: ${(e as Error).message}`, path);
  }
  // name the network after its file so reports and listings say which model they describe
  const name = opts.name ?? basename(path).replace(/\.[^.]*$/, '');
  return parseIntegerNet(text, { ...opts, name, file: path });
}
