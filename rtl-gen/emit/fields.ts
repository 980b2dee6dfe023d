/**
 * Named bit fields of a vector: the Verilog-2005 stand-in for a packed struct.
 * A layout is either a concatenation (fields listed most significant first, as
 * in `{a, b, c}`) or explicit positions (an instruction word from isaLayout).
 * The generator packs and slices by field name, so no bit position is written
 * by hand and a wider field moves every slice after it.
 */
import type { Block, Signal } from './module.js';
import { widthValue, type Width } from './width.js';

export interface BitField<F extends string> {
  readonly name: F;
  readonly lsb: number;
  readonly width: Width;
}

export class BitFields<F extends string> {
  private constructor(
    readonly fields: readonly BitField<F>[],
    /** total width */
    readonly width: number,
    /** true when the fields tile [width-1:0] in list order, so `pack` is a plain concatenation */
    private readonly contiguous: boolean,
  ) {}

  /** Fields packed like `{first, ..., last}`: the first is the most significant. */
  static concat<const F extends string>(fields: readonly (readonly [F, Width])[]): BitFields<F> {
    let lsb = fields.reduce((s, [, w]) => s + widthValue(w), 0);
    const total = lsb;
    const out = fields.map(([name, width]) => {
      lsb -= widthValue(width);
      return { name, lsb, width };
    });
    return new BitFields(out, total, true);
  }

  /** Fields at explicit positions inside a `width`-bit vector (gaps allowed). */
  static at<const F extends string>(fields: readonly BitField<F>[], width: number): BitFields<F> {
    for (const f of fields)
      if (f.lsb < 0 || f.lsb + widthValue(f.width) > width)
        throw new Error(`internal: field ${f.name} [${f.lsb}+:${widthValue(f.width)}] lies outside ${width} bits`);
    return new BitFields(fields, width, false);
  }

  field(name: F): BitField<F> {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new Error(`internal: no field '${name}' (fields: ${this.fields.map((x) => x.name).join(', ')})`);
    return f;
  }

  has(name: string): name is F {
    return this.fields.some((x) => x.name === name);
  }

  /** `vec[msb:lsb]` (or `vec[bit]`) of one field; `vec` must be an identifier. */
  slice(vec: string | Signal, name: F): string {
    const f = this.field(name);
    const w = widthValue(f.width);
    return w === 1 ? `${String(vec)}[${f.lsb}]` : `${String(vec)}[${f.lsb + w - 1}:${f.lsb}]`;
  }

  /** One field of the copy of this layout that starts at bit `offset` (an expression) of `vec`. */
  sliceAt(vec: string | Signal, offset: string, name: F): string {
    const f = this.field(name);
    const w = widthValue(f.width);
    const at = f.lsb === 0 ? offset : `${offset} + ${f.lsb}`;
    return w === 1 ? `${String(vec)}[${at}]` : `${String(vec)}[${at} +: ${String(f.width)}]`;
  }

  /** `{a, b, ...}` from one expression per field. */
  pack(values: Readonly<Record<F, string>>): string {
    if (!this.contiguous) throw new Error('internal: pack() needs a concatenation layout');
    return `{${this.fields.map((f) => values[f.name]).join(', ')}}`;
  }

  /**
   * Declare `wire [w-1:0] <prefix>_<field> = vec[...]` for the named fields (default all)
   * in `scope`; returns the wires by field name.
   */
  unpack(
    scope: Block,
    vec: string | Signal,
    prefix: string,
    names: readonly F[] = this.fields.map((f) => f.name),
    signed: readonly F[] = [],
  ): Record<F, Signal> {
    const out = {} as Record<F, Signal>;
    for (const n of names) {
      const f = this.field(n);
      out[n] = scope.wire(`${prefix}_${n}`, f.width, {
        value: this.slice(vec, n),
        ...(signed.includes(n) ? { signed: true } : {}),
      });
    }
    return out;
  }

  /** One comment line: `name[msb:lsb] ...`, most significant first. */
  describe(): string {
    return [...this.fields]
      .sort((a, b) => b.lsb - a.lsb)
      .map((f) => {
        const w = widthValue(f.width);
        return w === 1 ? `${f.name}[${f.lsb}]` : `${f.name}[${f.lsb + w - 1}:${f.lsb}]`;
      })
      .join(' ');
  }
}
