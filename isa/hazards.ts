/**
 * Race detector: finds two instructions on different units that touch the
 * same scratchpad entries (or DRAM bytes), at least one of them writing,
 * with no dependency token ordering them (docs/architecture.md section 4).
 * Such a program's result depends on timing, so engines that order work
 * differently (and the RTL) could disagree; every engine refuses it.
 *
 * Ordering is the token graph's happens-before, which is static: units run
 * their instructions in program order, an instruction pushes its tokens when
 * it completes, and the k-th pop of a channel can only start after the k-th
 * push of that channel has completed. So instruction a is ordered before b
 * exactly when a chain of unit order and push -> pop edges leads from a to b.
 * Each instruction gets a vector clock over the three units (how many
 * instructions of each unit are known complete when it starts); a and b on
 * units A and B are concurrent when neither clock has seen the other. Along a
 * unit the clocks only grow, so the instructions of B concurrent with a are
 * one contiguous run that slides forward as a advances: a two-pointer sweep.
 * (Fetch order and queue depths also delay some starts, but they are not
 * part of the contract: only tokens order units.)
 */
import { UNITS, type TokenChannel, type Unit } from './word.js';

/** What an instruction touches: scratchpads in entries, DRAM in bytes. */
export type Space = 'inp' | 'wgt' | 'param' | 'acc' | 'out' | 'dram';

/** `rows` runs of `count` consecutive entries (bytes), `stride` apart; scratchpad accesses have one row. */
export interface Access {
  space: Space;
  write: boolean;
  first: number;
  count: number;
  rows: number;
  stride: number;
}

/** The units, pops and pushes of one instruction (from the token checker's decoding). */
export interface TokenUse {
  /** undefined: HALT (no unit) */
  unit: Unit | undefined;
  pops: readonly TokenChannel[];
  pushes: readonly TokenChannel[];
}

export interface Race {
  /** the earlier and the later instruction (program order) */
  first: number;
  second: number;
  firstAccess: Access;
  secondAccess: Access;
  /** read-after-write, write-after-read, write-after-write (in program order) */
  kind: 'read-after-write' | 'write-after-read' | 'write-after-write';
  /** entries (bytes) both touch: the first overlapping run */
  overlap: { first: number; last: number };
}

type Clock = [number, number, number];
const UNIT_INDEX: Record<Unit, number> = { load: 0, compute: 1, store: 2 };

/**
 * Start clocks of every fetched instruction: clock[u] = instructions of unit u
 * complete before it starts. Instructions that can never start (a deadlock,
 * reported by the token checker) get undefined.
 */
function startClocks(uses: readonly TokenUse[], end: number): (Clock | undefined)[] {
  const streams: number[][] = [[], [], []];
  for (let i = 0; i < end; i++) {
    const u = uses[i]!.unit;
    if (u) streams[UNIT_INDEX[u]]!.push(i);
  }
  const start: (Clock | undefined)[] = new Array<Clock | undefined>(end);
  const finish: Clock[] = new Array<Clock>(end);
  // completion clocks of each channel's pushes, in push order
  const pushed = new Map<TokenChannel, Clock[]>();
  const popped = new Map<TokenChannel, number>();
  const head = [0, 0, 0];
  const last: Clock[] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let progress = true; progress;) {
    progress = false;
    for (let u = 0; u < 3; u++) {
      const stream = streams[u]!;
      while (head[u]! < stream.length) {
        const i = stream[head[u]!]!;
        const use = uses[i]!;
        const partners = use.pops.map((ch) => pushed.get(ch)?.[popped.get(ch) ?? 0]);
        if (partners.some((p) => p === undefined)) break;
        const s: Clock = [...last[u]!];
        for (const p of partners) for (let k = 0; k < 3; k++) s[k] = Math.max(s[k]!, p![k]!);
        for (const ch of use.pops) popped.set(ch, (popped.get(ch) ?? 0) + 1);
        start[i] = s;
        const f: Clock = [...s];
        f[u] = head[u]! + 1;
        finish[i] = f;
        last[u] = f;
        for (const ch of use.pushes) {
          const list = pushed.get(ch) ?? [];
          list.push(f);
          pushed.set(ch, list);
        }
        head[u]!++;
        progress = true;
      }
    }
  }
  return start;
}

/** First overlapping run of two accesses of the same space, or undefined. */
function overlap(a: Access, b: Access): { first: number; last: number } | undefined {
  const rows = (x: Access) => (x.stride === 0 ? 1 : x.rows);
  // walk the access with fewer rows; the other's rows meeting a run follow arithmetically
  const [p, q] = rows(a) <= rows(b) ? [a, b] : [b, a];
  const qRows = rows(q);
  for (let r = 0; r < rows(p); r++) {
    const lo = p.first + r * p.stride;
    const hi = lo + p.count;
    // row j of q meets [lo, hi) iff q.first + j*stride < hi and q.first + j*stride + count > lo
    let j = 0;
    if (qRows > 1) j = Math.max(0, Math.floor((lo - q.count - q.first) / q.stride) + 1);
    if (j >= qRows) continue;
    const s = Math.max(lo, q.first + j * q.stride);
    const e = Math.min(hi, q.first + j * q.stride + q.count);
    if (s < e) return { first: s, last: e - 1 };
  }
  return undefined;
}

/** A conflict between two instructions' access lists (same space, overlapping, one writes). */
function conflict(
  as: readonly Access[],
  bs: readonly Access[],
): { a: Access; b: Access; at: { first: number; last: number } } | undefined {
  for (const a of as) {
    for (const b of bs) {
      if (a.space !== b.space || !(a.write || b.write)) continue;
      const at = overlap(a, b);
      if (at) return { a, b, at };
    }
  }
  return undefined;
}

/**
 * The race with the smallest later instruction (then the smallest earlier
 * one) among the first `end` instructions, or undefined when every pair of
 * conflicting accesses on different units is ordered by tokens.
 */
export function findRace(
  uses: readonly TokenUse[],
  accesses: readonly (readonly Access[])[],
  end = uses.length,
): Race | undefined {
  const start = startClocks(uses, end);
  const streams: number[][] = [[], [], []];
  for (let i = 0; i < end; i++) {
    const u = uses[i]!.unit;
    if (u && start[i] && accesses[i]!.length) streams[UNIT_INDEX[u]]!.push(i);
  }
  const pos = new Map<number, number>();
  let best: Race | undefined;
  for (let u = 0; u < 3; u++) {
    // position of each instruction in its unit's full stream (clocks count every instruction)
    let k = 0;
    for (let i = 0; i < end; i++) if (uses[i]!.unit === UNITS[u]) pos.set(i, k++);
  }
  const better = (first: number, second: number) =>
    !best || second < best.second || (second === best.second && first < best.first);
  for (let ua = 0; ua < 3; ua++) {
    for (let ub = ua + 1; ub < 3; ub++) {
      const A = streams[ua]!;
      const B = streams[ub]!;
      let hi = 0; // B[0..hi) have not seen the current a
      for (const a of A) {
        const sa = start[a]!;
        const pa = pos.get(a)!;
        // b concurrent with a: a has not seen b (pos(b) >= sa[ub]) and b has not seen a (start[b][ua] <= pa)
        while (hi < B.length && start[B[hi]!]![ua]! <= pa) hi++;
        for (let j = hi - 1; j >= 0; j--) {
          const b = B[j]!;
          if (pos.get(b)! < sa[ub]!) break;
          const [first, second] = a < b ? [a, b] : [b, a];
          if (!better(first, second)) continue;
          const c = conflict(accesses[first]!, accesses[second]!);
          if (!c) continue;
          const kind = c.a.write ? (c.b.write ? 'write-after-write' : 'read-after-write') : 'write-after-read';
          best = { first, second, firstAccess: c.a, secondAccess: c.b, kind, overlap: c.at };
        }
      }
    }
  }
  return best;
}
