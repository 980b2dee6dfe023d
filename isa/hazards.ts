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
import type { ArchConfig } from '../arch/index.js';
import { deriveArch } from '../arch/index.js';
import { accessEnd, type Access, type Machine } from './ops/define.js';
import { opOf, stopsFetch, unitOf, type Instruction } from './table.js';
import { decodeTokens } from './token-use.js';
import { TOKEN_CHANNELS, UNITS, type TokenChannel } from './word.js';

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
  /** the second is a GEMM started beside the REQUANT `first` (same unit: gemm_beside, not tokens) */
  beside?: true;
}

/** besideRole: the GEMM right after it may start beside it (REQUANT gemm_beside = 1) */
export const BESIDE_HOST = 1;
/** besideRole: it starts beside the REQUANT right before it if that one is a host (a GEMM) */
export const BESIDE_GUEST = 2;

/**
 * How an instruction takes part in a GEMM beside a REQUANT (docs/architecture.md
 * 7.3): BESIDE_HOST, BESIDE_GUEST, or 0.
 */
export function besideRole(inst: Instruction): number {
  if (inst.op === 'REQUANT') return inst.gemm_beside === 1 ? BESIDE_HOST : 0;
  return inst.op === 'GEMM' ? BESIDE_GUEST : 0;
}

/**
 * REQUANT `host` may take gemm_beside = 1 with GEMM `g` right after it:
 * they touch no common entries (the GEMM's ACC writes miss the
 * REQUANT's ACC reads). For the compiler and the random programs.
 */
export function mayStartBeside(host: Instruction, g: Instruction, m: Machine): boolean {
  if (host.op !== 'REQUANT' || g.op !== 'GEMM') return false;
  const f = flatten([opOf(host).accesses(host, m), opOf(g).accesses(g, m)], 2);
  return conflict(f, 0, 1) === undefined;
}

/** Unit codes (ISA order) and channel codes (TOKEN_CHANNELS order) of the fetched instructions. */
export interface TokenGraph {
  count: number;
  /** 0 load, 1 compute, 2 store, anything else: no unit (HALT) */
  unit: ArrayLike<number>;
  /** up to two popped and two pushed channels per instruction, -1 = none */
  pop0: ArrayLike<number>;
  pop1: ArrayLike<number>;
  push0: ArrayLike<number>;
  push1: ArrayLike<number>;
  /** besideRole of each instruction (absent: none takes part) */
  beside?: ArrayLike<number>;
}

/**
 * Start clocks of every instruction, 3 per instruction: how many
 * instructions of each unit are known complete when it starts; -1 for an
 * instruction that can never start (a deadlock, which the token checker
 * reports). Also each instruction's position in its unit's stream.
 */
function startClocks(g: TokenGraph): { start: Int32Array; pos: Int32Array } {
  const n = g.count;
  const streams: number[][] = [[], [], []];
  const pos = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const u = g.unit[i]!;
    if (u < 3) {
      pos[i] = streams[u]!.length;
      streams[u]!.push(i);
    }
  }
  const start = new Int32Array(3 * n).fill(-1);
  // completion clock of each channel's k-th push: pushed[ch][3k..3k+2]
  const pushed: number[][] = [[], [], [], []];
  const popped = [0, 0, 0, 0];
  const head = [0, 0, 0];
  const last = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const ready = (ch: number) => ch < 0 || pushed[ch]!.length > 3 * popped[ch]!;
  const join = (s: number, ch: number) => {
    if (ch < 0) return;
    const list = pushed[ch]!;
    const k = 3 * popped[ch]!++;
    for (let c = 0; c < 3; c++) if (list[k + c]! > start[s + c]!) start[s + c] = list[k + c]!;
  };
  const push = (ch: number, u: number) => {
    if (ch >= 0) pushed[ch]!.push(last[3 * u]!, last[3 * u + 1]!, last[3 * u + 2]!);
  };
  for (let progress = true; progress;) {
    progress = false;
    for (let u = 0; u < 3; u++) {
      const stream = streams[u]!;
      while (head[u]! < stream.length) {
        const i = stream[head[u]!]!;
        const p0 = g.pop0[i]!;
        const p1 = g.pop1[i]!;
        if (!ready(p0) || !ready(p1)) break;
        const s = 3 * i;
        for (let c = 0; c < 3; c++) start[s + c] = last[3 * u + c]!;
        join(s, p0);
        join(s, p1);
        for (let c = 0; c < 3; c++) last[3 * u + c] = start[s + c]!;
        last[3 * u + u] = head[u]! + 1;
        push(g.push0[i]!, u);
        push(g.push1[i]!, u);
        head[u]!++;
        progress = true;
      }
    }
  }
  return { start, pos };
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

const SPACE_CODE = { inp: 0, wgt: 1, param: 2, acc: 3, out: 4, dram: 5 } as const;

/** The accesses of all instructions flattened: per access its space, write flag and bounding [lo, hi). */
interface Flat {
  /** accesses of instruction i: [at[i], at[i+1]) */
  at: Int32Array;
  space: Uint8Array;
  write: Uint8Array;
  lo: Float64Array;
  hi: Float64Array;
  list: Access[];
}

function flatten(accesses: readonly (readonly Access[])[], n: number): Flat {
  const at = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) at[i + 1] = at[i]! + accesses[i]!.length;
  const total = at[n]!;
  const f: Flat = {
    at,
    space: new Uint8Array(total),
    write: new Uint8Array(total),
    lo: new Float64Array(total),
    hi: new Float64Array(total),
    list: [],
  };
  for (let i = 0; i < n; i++) {
    for (const a of accesses[i]!) {
      const k = f.list.length;
      f.list.push(a);
      f.space[k] = SPACE_CODE[a.space];
      f.write[k] = a.write ? 1 : 0;
      f.lo[k] = a.first;
      f.hi[k] = accessEnd(a);
    }
  }
  return f;
}

/** The first conflicting pair of accesses of instructions x and y (same space, one writes, overlapping). */
function conflict(
  f: Flat,
  x: number,
  y: number,
): { a: Access; b: Access; at: { first: number; last: number } } | undefined {
  for (let i = f.at[x]!; i < f.at[x + 1]!; i++) {
    for (let j = f.at[y]!; j < f.at[y + 1]!; j++) {
      if (f.space[i] !== f.space[j] || !(f.write[i]! | f.write[j]!)) continue;
      if (f.lo[i]! >= f.hi[j]! || f.lo[j]! >= f.hi[i]!) continue;
      const at = overlap(f.list[i]!, f.list[j]!);
      if (at) return { a: f.list[i]!, b: f.list[j]!, at };
    }
  }
  return undefined;
}

/**
 * The race with the smallest later instruction (then the smallest earlier
 * one), or undefined when every pair of conflicting accesses on different
 * units is ordered by tokens.
 */
export function findRace(g: TokenGraph, accesses: readonly (readonly Access[])[]): Race | undefined {
  const n = g.count;
  const { start, pos } = startClocks(g);
  const f = flatten(accesses, n);
  const streams: number[][] = [[], [], []];
  for (let i = 0; i < n; i++) {
    const u = g.unit[i]!;
    if (u < 3 && start[3 * i]! >= 0 && f.at[i + 1]! > f.at[i]!) streams[u]!.push(i);
  }
  let best: Race | undefined;
  for (let ua = 0; ua < 3; ua++) {
    for (let ub = ua + 1; ub < 3; ub++) {
      const A = streams[ua]!;
      const B = streams[ub]!;
      let hi = 0; // B[0, hi) have not seen the current a complete
      for (const a of A) {
        if (best && a > best.second) break;
        const pa = pos[a]!;
        const seenB = start[3 * a + ub]!;
        // b concurrent with a: a has not seen b (pos(b) >= seenB) and b has not seen a (start[b][ua] <= pa)
        while (hi < B.length && start[3 * B[hi]! + ua]! <= pa) hi++;
        for (let j = hi - 1; j >= 0; j--) {
          const b = B[j]!;
          if (pos[b]! < seenB) break;
          const first = a < b ? a : b;
          const second = a < b ? b : a;
          if (best && (second > best.second || (second === best.second && first >= best.first))) continue;
          const c = conflict(f, first, second);
          if (!c) continue;
          const kind = c.a.write ? (c.b.write ? 'write-after-write' : 'read-after-write') : 'write-after-read';
          best = { first, second, firstAccess: c.a, secondAccess: c.b, kind, overlap: c.at };
        }
      }
    }
  }
  const rb = besideRace(g, f);
  return rb && (!best || rb.second < best.second || (rb.second === best.second && rb.first < best.first)) ? rb : best;
}

/**
 * The first GEMM started beside a REQUANT (the compute instruction right
 * before it) whose accesses meet the REQUANT's (its ACC writes, the
 * REQUANT's ACC reads), or undefined.
 */
function besideRace(g: TokenGraph, f: Flat): Race | undefined {
  const roles = g.beside;
  if (!roles) return undefined;
  let prev = -1;
  for (let i = 0; i < g.count; i++) {
    if (g.unit[i] !== UNITS.indexOf('compute')) continue;
    if (roles[i] === BESIDE_GUEST && prev >= 0 && roles[prev] === BESIDE_HOST) {
      const c = conflict(f, prev, i);
      if (c) {
        const kind = c.a.write ? (c.b.write ? 'write-after-write' : 'read-after-write') : 'write-after-read';
        return { first: prev, second: i, firstAccess: c.a, secondAccess: c.b, kind, overlap: c.at, beside: true };
      }
    }
    prev = i;
  }
  return undefined;
}

/**
 * The first race of a program (see findRace) among the instructions fetch
 * reaches (up to the first HALT), with each opcode's accesses on `cfg`.
 * Instructions must be legal (checkInstruction); flags are decoded as the
 * token checker does.
 */
export function findProgramRace(code: readonly Instruction[], cfg: ArchConfig): Race | undefined {
  const m = { cfg, arch: deriveArch(cfg) };
  const halt = code.findIndex(stopsFetch);
  const count = halt < 0 ? code.length : halt + 1;
  const unit = new Uint8Array(count);
  const pop0 = new Int8Array(count);
  const pop1 = new Int8Array(count);
  const push0 = new Int8Array(count);
  const push1 = new Int8Array(count);
  const channel = (ch: TokenChannel | undefined) => (ch ? TOKEN_CHANNELS.indexOf(ch) : -1);
  const accesses: (readonly Access[])[] = [];
  for (let i = 0; i < count; i++) {
    const d = decodeTokens(code[i]!, `instruction ${i}`);
    unit[i] = d.unit ? UNITS.indexOf(d.unit) : 3;
    pop0[i] = channel(d.pops[0]);
    pop1[i] = channel(d.pops[1]);
    push0[i] = channel(d.pushes[0]);
    push1[i] = channel(d.pushes[1]);
    accesses.push(opOf(code[i]!).accesses(code[i]!, m));
  }
  const beside = Uint8Array.from(code.slice(0, count), besideRole);
  const g: TokenGraph = { count, unit, pop0, pop1, push0, push1, beside };
  return findRace(g, accesses);
}

const SPACE_NAMES = { inp: 'INP', wgt: 'WGT', param: 'PARAM', acc: 'ACC', out: 'OUT', dram: 'DRAM' } as const;

/** `INP [0, 99]`, `DRAM bytes [0, 55] (4 rows of 8, stride 16)`. */
function region(a: Access): string {
  const last = accessEnd(a) - 1;
  if (a.space !== 'dram') return `${SPACE_NAMES[a.space]} [${a.first}, ${last}]`;
  const rows = a.rows > 1 ? ` (${a.rows} rows of ${a.count} bytes, stride ${a.stride})` : '';
  return `DRAM bytes [${a.first}, ${last}]${rows}`;
}

/**
 * The race as one error: `where` is the later instruction's place, the
 * message names the earlier one, both regions, and what orders nothing.
 * `place(i)`: how instruction i is named (`instruction 7`, `prog.s:12 (instruction 7)`).
 */
export function describeRace(
  race: Race,
  code: readonly Instruction[],
  place: (i: number) => string = (i) => `instruction ${i}`,
): { where: string; message: string } {
  const a = code[race.first]!;
  const b = code[race.second]!;
  const unit = (inst: Instruction) => unitOf(inst) ?? 'no';
  const verb = (x: Access) => (x.write ? 'writes' : 'reads');
  const verbing = (x: Access) => (x.write ? 'writing' : 'reading');
  const space = SPACE_NAMES[race.firstAccess.space];
  const at =
    race.firstAccess.space === 'dram'
      ? `DRAM bytes [${race.overlap.first}, ${race.overlap.last}]`
      : `${space} [${race.overlap.first}, ${race.overlap.last}]`;
  return {
    where: place(race.second),
    message:
      `${b.op} (${unit(b)} unit) ${verb(race.secondAccess)} ${region(race.secondAccess)} while ` +
      `${place(race.first)}, a ${a.op} (${unit(a)} unit) ${verbing(race.firstAccess)} ${region(race.firstAccess)}, ` +
      `may still run: ${race.beside ? 'its gemm_beside=1 starts the GEMM beside it' : 'no dependency token orders them'} (${race.kind} race on ${at})`,
  };
}
