/**
 * Differential fuzz of the three engines (issue 15): random valid programs
 * (sim/random-program.ts) and mutations of them (flags dropped or added,
 * instructions swapped, deleted or duplicated, addresses shifted) run on the
 * timing, fast and cycle engines. Every program must be refused by all three
 * with the same message, or accepted by all three with the same cycles, the
 * same per-instruction dispatch/start/end, the same counters and (fast and
 * cycle) the same final DRAM. The one asymmetry is by design: the timing
 * engine has no data, so an accumulator overflow only the data engines can
 * see is refused by those two alike.
 */
import { NibbleError, type ArchConfig } from '../arch/index.js';
import { stopsFetch, type Instruction, type Program } from '../isa/index.js';
import { mulberry32 } from './memory.js';
import { randomConfig, randomProgram } from './random-program.js';
import { simulate, type SimResult } from './simulate.js';

/** Why the engines refused a program (by its message). */
export const REFUSAL_KINDS = ['race', 'deadlock', 'range', 'illegal', 'overflow', 'budget', 'other'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

export interface FuzzOptions {
  /** random base programs; each also runs `mutations` mutated copies */
  count: number;
  seed: number;
  /** mutated copies per base program (default 3) */
  mutations?: number;
  /** cycle budget of every run (default 200,000) */
  maxCycles?: number;
  /** called after each program */
  onProgram?(done: number, total: number): void;
}

export interface Disagreement {
  seed: number;
  /** 0: the base program; k: its k-th mutation */
  variant: number;
  mutations: string[];
  detail: string;
}

export interface FuzzReport {
  programs: number;
  accepted: number;
  refused: Record<RefusalKind, number>;
  /** overflows the data engines refused and the timing engine (no data) ran */
  overflowOnlyWithData: number;
  disagreements: Disagreement[];
}

type Run = { ok: true; r: SimResult } | { ok: false; message: string };

function run(program: Program, engine: 'timing' | 'fast' | 'cycle', maxCycles: number): Run {
  try {
    return { ok: true, r: simulate(program, { engine, maxCycles, energy: false }) };
  } catch (e) {
    if (e instanceof NibbleError) return { ok: false, message: e.message };
    throw e;
  }
}

export function refusalKind(message: string): RefusalKind {
  if (message.includes('no dependency token orders them')) return 'race';
  if (message.includes('token deadlock')) return 'deadlock';
  if (message.includes('illegal instruction')) return 'illegal';
  if (message.includes('accumulator overflow')) return 'overflow';
  if (message.includes('cycle budget') || message.includes('cycles without finishing')) return 'budget';
  if (/outside the|overlap|windows need|no HALT/.test(message)) return 'range';
  return 'other';
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

/** Undefined when the runs agree, else what differs. */
function compare(t: Run, f: Run, c: Run): string | undefined {
  if (!t.ok || !f.ok || !c.ok) {
    const msgs = [t, f, c].map((x) => (x.ok ? '(accepted)' : x.message));
    if (!t.ok && msgs[0] === msgs[1] && msgs[1] === msgs[2]) return undefined;
    if (t.ok && !f.ok && !c.ok && f.message === c.message && refusalKind(f.message) === 'overflow') return undefined;
    return `timing: ${msgs[0]} | fast: ${msgs[1]} | cycle: ${msgs[2]}`;
  }
  for (const [name, r] of [
    ['fast', f.r],
    ['cycle', c.r],
  ] as const) {
    if (r.cycles !== t.r.cycles) return `${name}: ${r.cycles} cycles, timing ${t.r.cycles}`;
    for (const k of ['dispatch', 'start', 'end'] as const)
      if (!same(r[k], t.r[k])) return `${name}: ${k} times differ from the timing engine's`;
    if (JSON.stringify(r.counters) !== JSON.stringify(t.r.counters)) return `${name}: counters differ`;
  }
  if (!same(f.r.dram!, c.r.dram!)) return 'fast and cycle final DRAM differ';
  return undefined;
}

/** Address-like fields a mutation may shift. */
const ADDRESS_FIELDS = [
  'sram_addr',
  'dram_addr',
  'inp_addr',
  'wgt_addr',
  'acc_addr',
  'out_addr',
  'src_addr',
  'dst_addr',
];
const FLAGS = ['pop_prev', 'pop_next', 'push_prev', 'push_next'] as const;

/** Apply one random mutation to `code` (new instruction objects only); returns what it did. */
function mutate(code: Instruction[], rnd: () => number): string {
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const body = code.findIndex(stopsFetch);
  const last = (body < 0 ? code.length : body) - 1;
  if (last < 0) return 'none (empty program)';
  const i = int(0, last);
  const inst = { ...code[i]! } as Record<string, number | string>;
  switch (int(0, 5)) {
    case 0: {
      const set = FLAGS.filter((f) => inst[f] === 1);
      if (!set.length) return 'none (no flag to drop)';
      const f = set[int(0, set.length - 1)]!;
      inst[f] = 0;
      code[i] = inst as unknown as Instruction;
      return `instruction ${i}: ${f} dropped`;
    }
    case 1: {
      const f = FLAGS[int(0, 3)]!;
      inst[f] = 1;
      code[i] = inst as unknown as Instruction;
      return `instruction ${i}: ${f} set`;
    }
    case 2:
      if (i >= last) return 'none (no neighbour to swap)';
      [code[i], code[i + 1]] = [code[i + 1]!, code[i]!];
      return `instructions ${i} and ${i + 1} swapped`;
    case 3:
      code.splice(i, 1);
      return `instruction ${i} deleted`;
    case 4: {
      const fields = ADDRESS_FIELDS.filter((f) => typeof inst[f] === 'number');
      if (!fields.length) return 'none (no address field)';
      const f = fields[int(0, fields.length - 1)]!;
      const d = int(1, 16) * (rnd() < 0.5 ? -1 : 1);
      inst[f] = Math.max(0, (inst[f] as number) + d);
      code[i] = inst as unknown as Instruction;
      return `instruction ${i}: ${f} ${d > 0 ? '+' : ''}${d}`;
    }
    case 5:
      code.splice(i, 0, { ...code[i]! });
      return `instruction ${i} duplicated`;
  }
  throw new Error('internal error: mutation kind out of 0..5');
}

/** The base program of a seed and its mutated copies. */
export function fuzzPrograms(seed: number, mutations: number): { program: Program; mutations: string[] }[] {
  const cfg: ArchConfig = randomConfig(seed);
  const base = randomProgram(seed, cfg);
  const out = [{ program: base, mutations: [] as string[] }];
  const rnd = mulberry32(seed ^ 0x7f4a7c15);
  for (let k = 0; k < mutations; k++) {
    const code = base.code.map((inst) => ({ ...inst }));
    const done: string[] = [];
    for (let m = 1 + Math.floor(rnd() * 3); m > 0; m--) done.push(mutate(code, rnd));
    out.push({ program: { ...base, code }, mutations: done });
  }
  return out;
}

/** Run the fuzz: `count` seeds from `seed`, each base program and its mutations on all three engines. */
export function fuzzEngines(opts: FuzzOptions): FuzzReport {
  const mutations = opts.mutations ?? 3;
  const maxCycles = opts.maxCycles ?? 200_000;
  const report: FuzzReport = {
    programs: 0,
    accepted: 0,
    refused: Object.fromEntries(REFUSAL_KINDS.map((k) => [k, 0])) as Record<RefusalKind, number>,
    overflowOnlyWithData: 0,
    disagreements: [],
  };
  for (let s = 0; s < opts.count; s++) {
    const seed = opts.seed + s;
    fuzzPrograms(seed, mutations).forEach(({ program, mutations: done }, variant) => {
      const t = run(program, 'timing', maxCycles);
      const f = run(program, 'fast', maxCycles);
      const c = run(program, 'cycle', maxCycles);
      report.programs++;
      const detail = compare(t, f, c);
      if (detail) report.disagreements.push({ seed, variant, mutations: done, detail });
      else if (t.ok && f.ok) report.accepted++;
      else if (t.ok) report.overflowOnlyWithData++;
      else report.refused[refusalKind(t.message)]++;
    });
    opts.onProgram?.(s + 1, opts.count);
  }
  return report;
}
