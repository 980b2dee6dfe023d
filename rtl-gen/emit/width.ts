/**
 * Widths (and other integers) the generated Verilog spells by name. A `Dim` is
 * a linear expression of named constants (`ACC_AW`, `2*DIMB`, `INP_AW+DIMB`)
 * that also knows its value, so the generator can compute with it while the
 * Verilog shows the names: `reg [ACC_AW-1:0] acc;` rather than `reg [6:0] acc;`.
 */

export type Width = number | Dim;

export class Dim {
  private constructor(
    /** name -> coefficient and the name's value, in first-use order */
    readonly terms: ReadonlyMap<string, { readonly c: number; readonly v: number }>,
    readonly constant: number,
  ) {}

  /** A named constant (a parameter or localparam of the module that uses it). */
  static named(name: string, value: number): Dim {
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`internal: '${name}' is not a Verilog identifier`);
    return new Dim(new Map([[name, { c: 1, v: value }]]), 0);
  }

  /** The product of two named widths, e.g. `W*DEPTH` (kept as one term). */
  static product(a: Dim, b: Dim): Dim {
    if (a.terms.size !== 1 || b.terms.size !== 1 || a.constant || b.constant)
      throw new Error(`internal: product() takes two plain names, got ${a.toString()} and ${b.toString()}`);
    return new Dim(new Map([[`${a.toString()}*${b.toString()}`, { c: 1, v: a.value * b.value }]]), 0);
  }

  static of(w: Width): Dim {
    return typeof w === 'number' ? new Dim(new Map(), w) : w;
  }

  /** The value, with `env` overriding named values (an instance's parameters). */
  evaluate(env: ReadonlyMap<string, number> = new Map()): number {
    let s = this.constant;
    for (const [name, t] of this.terms) s += t.c * (env.get(name) ?? t.v);
    return s;
  }

  get value(): number {
    return this.evaluate();
  }

  plus(x: Width): Dim {
    const o = Dim.of(x);
    const terms = new Map(this.terms);
    for (const [k, t] of o.terms) {
      const c = (terms.get(k)?.c ?? 0) + t.c;
      if (c === 0) terms.delete(k);
      else terms.set(k, { c, v: t.v });
    }
    return new Dim(terms, this.constant + o.constant);
  }

  minus(x: Width): Dim {
    return this.plus(Dim.of(x).times(-1));
  }

  times(k: number): Dim {
    if (!Number.isInteger(k)) throw new Error(`internal: width factor ${k} is not an integer`);
    const terms = new Map<string, { c: number; v: number }>();
    if (k !== 0) for (const [n, t] of this.terms) terms.set(n, { c: t.c * k, v: t.v });
    return new Dim(terms, this.constant * k);
  }

  /** The names this expression uses. */
  get names(): string[] {
    return [...this.terms.keys()];
  }

  /** Verilog text, e.g. `IX+128`, `2*DIMB`, `ACC_AW-1`, `7`. */
  toString(): string {
    let s = '';
    for (const [name, { c }] of this.terms) {
      const term = c === 1 ? name : c === -1 ? `-${name}` : `${c}*${name}`;
      s += s === '' || term.startsWith('-') ? term : `+${term}`;
    }
    if (s === '') return String(this.constant);
    if (this.constant > 0) s += `+${this.constant}`;
    if (this.constant < 0) s += `${this.constant}`;
    return s;
  }
}

export function widthValue(w: Width): number {
  return typeof w === 'number' ? w : w.value;
}

/** `[msb:lsb]` for a width (`[W-1:0]`), or '' for a plain 1-bit number from bit 0. */
export function range(w: Width, lsb = 0): string {
  if (typeof w === 'number') {
    if (!Number.isInteger(w) || w < 1) throw new Error(`internal: width ${w} is not a positive integer`);
    return w === 1 && lsb === 0 ? '' : `[${w + lsb - 1}:${lsb}]`;
  }
  if (w.value < 1) throw new Error(`internal: width ${w.toString()} = ${w.value} is not positive`);
  return `[${w.plus(lsb - 1).toString()}:${lsb}]`;
}

/** Smallest number of bits that holds the values 0..maxValue (at least 1). */
export function bitsFor(maxValue: number): number {
  return Math.max(1, Math.ceil(Math.log2(maxValue + 1)));
}

/** Bits of an index into `count` things (at least 1): clog2(count). */
export function indexBits(count: number): number {
  return Math.max(1, Math.ceil(Math.log2(count)));
}

/** A sized Verilog literal: `lit(3, 4)` = `3'd4`. */
export function lit(width: Width, v: number | bigint): string {
  const w = widthValue(width);
  if (BigInt(v) < 0n || BigInt(v) >= 1n << BigInt(w))
    throw new Error(`internal: ${v} does not fit ${w} bits (unsigned literal)`);
  return `${w}'d${v}`;
}

/** Zero-extend a `from`-bit expression to `to` bits (no zero-width replication). */
export function zext(expr: string, from: Width, to: Width): string {
  const f = Dim.of(from);
  const t = Dim.of(to);
  if (t.value < f.value) throw new Error(`internal: cannot zero-extend ${f.value} bits to ${t.value}`);
  const pad = t.minus(f);
  if (pad.value === 0) return expr;
  return pad.terms.size === 0 ? `{${pad.value}'d0, ${expr}}` : `{{(${pad.toString()}){1'b0}}, ${expr}}`;
}

/** Sign-extend a `from`-bit identifier to `to` bits: its msb replicated. */
export function sext(expr: string, from: Width, to: Width): string {
  const f = Dim.of(from);
  const pad = Dim.of(to).minus(f);
  if (pad.value < 0) throw new Error(`internal: cannot sign-extend ${f.value} bits to ${widthValue(to)}`);
  if (pad.value === 0) return expr;
  const count = pad.terms.size === 0 ? String(pad.value) : `(${pad.toString()})`;
  return `{{${count}{${expr}[${f.minus(1).toString()}]}}, ${expr}}`;
}
