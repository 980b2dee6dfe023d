/**
 * Facts the fast engine derives from one instruction's fields alone (a
 * tap-packed GEMM's row plan and tap table, its INP-read count), kept per
 * instruction object: a program's instructions run again in every
 * simulation of it (a dataset, a benchmark). Programs are plain data, so an
 * entry is used only while the instruction still has exactly the fields it
 * was computed from; one edited in place is computed again.
 */
export class InstructionMemo<I extends object, V> {
  private readonly memo = new WeakMap<I, { fields: FieldSnapshot<I>; rows: number; value: V }>();

  /** compute(inst, rows): a value that depends on inst's fields and the array's rows only, never mutated by callers */
  constructor(private readonly compute: (inst: I, rows: number) => V) {}

  get(inst: I, rows: number): V {
    const m = this.memo.get(inst);
    if (m && m.rows === rows && unchangedSince(m.fields, inst)) return m.value;
    const value = this.compute(inst, rows);
    this.memo.set(inst, { fields: snapshotFields(inst), rows, value });
    return value;
  }
}

/** An object's own fields at one moment (a shallow copy), and how to tell whether it still has exactly them. */
export interface FieldSnapshot<I extends object> {
  readonly fields: I;
  readonly count: number;
  readonly same: Same;
}

export function snapshotFields<I extends object>(inst: I): FieldSnapshot<I> {
  const keys = Object.keys(inst);
  return { fields: { ...inst }, count: keys.length, same: comparator(keys) };
}

/** `inst` has the snapshot's fields with the same values, and no others. */
export function unchangedSince<I extends object>(s: FieldSnapshot<I>, inst: I): boolean {
  return s.same(s.fields, inst) && fieldCount(inst) === s.count;
}

type Same = (a: object, b: object) => boolean;

function fieldCount(inst: object): number {
  let n = 0;
  for (const _ in inst) n++;
  return n;
}

/**
 * (a, b) => every one of `keys` has the same value in a and b, as one generated
 * expression per key set (an instruction's fields per opcode): a loop over the
 * keys costs ~10x more per look-up, which a GEMM of a few microseconds notices.
 */
function comparator(keys: string[]): Same {
  const id = keys.join(',');
  let f = comparators.get(id);
  if (!f) {
    if (comparators.size > 256) comparators.clear();
    const terms = keys.map((k) => `a[${JSON.stringify(k)}] === b[${JSON.stringify(k)}]`);
    f = new Function('a', 'b', `return ${terms.join(' && ') || 'true'};`) as Same;
    comparators.set(id, f);
  }
  return f;
}

const comparators = new Map<string, Same>();
