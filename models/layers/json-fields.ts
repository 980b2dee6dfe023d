/**
 * Strict structural checks of one JSON object of a model file (models/model-json.ts
 * and each layer kind's `fromJson`): a missing, extra or mistyped field is a
 * ModelError naming the place and the field.
 */

import { ModelError } from '../../arch/index.js';
import { signedRange } from '../ir.js';
import { firstOutside } from '../weight-scan.js';

/** How a JSON value of unknown type is shown in load errors, e.g. `the string "2"`. */
export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (v === undefined) return 'nothing (the field is missing)';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Structural checks for one JSON object, failing with `where: field ...: reason`. */
export class Fields {
  constructor(
    readonly obj: Record<string, unknown>,
    readonly where: string,
  ) {}

  static of(value: unknown, where: string, what: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ModelError(`expected ${what} (a JSON object), got ${describeJson(value)}`, where);
    }
    return new Fields(value as Record<string, unknown>, where);
  }

  fail(field: string, reason: string): never {
    throw new ModelError(`field ${field}: ${reason}`, this.where);
  }

  /** Exactly these keys (those in `optional` may be absent): reports the first missing one, then any extra one. */
  exactly(keys: readonly string[], what: string, optional: readonly string[] = []): void {
    for (const k of keys) if (!(k in this.obj) && !optional.includes(k)) this.fail(k, `missing (required for ${what})`);
    for (const k of Object.keys(this.obj)) {
      if (!keys.includes(k)) this.fail(k, `unknown field for ${what} (allowed: ${keys.join(', ')})`);
    }
  }

  int(key: string, min: number, max?: number): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${describeJson(v)}`);
    const n = v as number;
    if (n < min) this.fail(key, `must be >= ${min}, got ${n}`);
    if (max !== undefined && n > max) this.fail(key, `must be <= ${max}, got ${n}`);
    return n;
  }

  bool(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${describeJson(v)}`);
    return v as boolean;
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || v === '') this.fail(key, `expected a non-empty string, got ${describeJson(v)}`);
    return v as string;
  }

  /**
   * Integer array of an exact length (`dims` explains the expected count) and range. An Int8Array is the fast
   * model-JSON reader's form of a weights array (models/model-json-reader.ts): checked the same way.
   */
  ints(key: string, length: number, dims: string, lo: number, hi: number, rangeNote: string): ArrayLike<number> {
    const v = this.obj[key];
    if (!Array.isArray(v) && !(v instanceof Int8Array))
      this.fail(key, `expected an array of integers, got ${describeJson(v)}`);
    const a = v as ArrayLike<unknown>;
    if (a.length !== length) this.fail(key, `expected ${length} values (${dims}), got ${a.length}`);
    if (a instanceof Int8Array) {
      // integers by construction: only the range to check (the loop below names the first value outside it)
      if (firstOutside(a, lo, hi) < 0) return a;
    }
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (typeof x !== 'number' || !Number.isInteger(x))
        this.fail(`${key}[${i}]`, `expected an integer, got ${describeJson(x)}`);
      if ((x as number) < lo || (x as number) > hi) {
        this.fail(`${key}[${i}]`, `value ${x} is outside [${lo}, ${hi}]${rangeNote}`);
      }
    }
    return a as ArrayLike<number>;
  }

  /** The `weights` field: `count` integers (`dims` explains the count) in the signed weightBits range. */
  weights(count: number, dims: string, weightBits: number): Int8Array {
    const { lo, hi } = signedRange(weightBits);
    const w = this.ints('weights', count, dims, lo, hi, ` for weightBits ${weightBits}`);
    return w instanceof Int8Array ? w : Int8Array.from(w);
  }
}
