/**
 * The compiler: network IR + ArchConfig -> Program (docs/compiler.md).
 *
 *   lower (IR layer groups -> ConvOps) -> tile (per op, to the scratchpads)
 *   -> DRAM plan (weights, params, activations) -> schedule (three unit
 *   streams, rings, tokens, program order).
 */
import { configHash, deriveArch, validateConfig, type ArchConfig, CompileError } from '../arch/index.js';
import {
  checkInstruction,
  disassembleProgram,
  isaLayout,
  legalityTest,
  type LayerInfo,
  type Program,
  type TensorDescriptor,
} from '../isa/index.js';
import type { Network } from '../models/index.js';
import { scheduleProgram, type Schedule } from '../sim/index.js';
import { planDram, type ConstantsMemo } from './dram.js';
import { lowerNetwork, type ActTensor, type Lowered } from './lower.js';
import { Scheduler } from './schedule.js';
import { overlapCut, planOp, type OpPlan } from './tiling.js';

export { ISA_LIMITS } from './lower.js';

export interface CompileOptions {
  /** images per run (default 1) */
  batch?: number;
  /** told each phase as it starts ("planning layer 3 of 16", ...): the CLI shows it on a terminal */
  onPhase?: (phase: string) => void;
  /**
   * tap packing of layers with few input channels (docs/compiler.md 3a; default true).
   * false: one kernel tap per pass everywhere, for machines without it (the generated
   * RTL until it implements it, rtl-gen/pending.ts)
   */
  tapPacking?: boolean;
}

export const COMPILER_VERSION = '1';

/** Per-instruction comments of programs compiled in this process (for compileListing). */
const notesOf = new WeakMap<Program, (string | undefined)[]>();

function descriptor(t: ActTensor, batch: number): TensorDescriptor {
  return {
    name: t.name,
    dramAddr: t.dramAddr,
    shape: [batch, t.c, t.h, t.w],
    layout: t.layout,
    bits: t.bits,
    signed: t.signed,
    imageStrideBytes: t.imageStrideBytes,
  };
}

/**
 * Compile a network for a machine. Throws ModelError for a malformed network
 * and CompileError (naming the layer, the limit and the config field to change)
 * when it does not fit the machine.
 */
export function compileNetwork(net: Network, cfg: ArchConfig, opts: CompileOptions = {}): Program {
  validateConfig(cfg);
  isaLayout(cfg); // ConfigError when the config's fields no longer fit the word
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1 || batch > 65536) {
    throw new CompileError(`batch must be an integer in [1, 65536], got ${JSON.stringify(batch)}`, 'compile options');
  }
  const phase = opts.onPhase ?? (() => {});
  phase('lowering the network');
  const lowered = lowerNetwork(net, cfg);
  const packing = opts.tapPacking ?? true;
  const planner = new OpPlanner(lowered, cfg, batch, packing);
  const planes = buildProgram(net, planner, phase);
  if (!packing || !nibbleLanesFit(lowered, cfg)) return planes;
  // An 8-bit input read only by layers that can tap-pack it two lanes per channel may
  // instead be laid out as nibble lanes (half the INP entries, one GEMM per tile instead
  // of one per nibble plane): the faster program by the timing model is the result.
  // The second build plans and packs only the ops that read the input again (OpPlanner).
  lowered.input.layout = 'nibble-lanes';
  const lanes = buildProgram(net, planner, (p) => phase(`${p} (nibble-lanes input)`));
  if (Number(lanes.meta['estimatedCycles']) < Number(planes.meta['estimatedCycles'])) return lanes;
  lowered.input.layout = 'nibble-planes';
  return planes;
}

/** Every term that reads a nibble-plane input can read it as nibble lanes (tap-packed, 2 lanes per channel). */
function nibbleLanesFit(lowered: Lowered, cfg: ArchConfig): boolean {
  const input = lowered.input;
  if (input.layout !== 'nibble-planes' || input.bits > 8) return false;
  const maxLanes = deriveArch(cfg).maxTapLanes;
  return lowered.ops.every((op) => op.terms.every((t) => t.src.id !== input.id || 2 * t.ci <= maxLanes));
}

/**
 * planOp of one compileNetwork's ops, each (op, band cuts, layouts of the op's
 * inputs) planned once: band cuts are settled by repeated planning
 * (bandCuts), and the two input layouts' builds share every op that does not
 * read the input. Plans are never changed after planning, so one may serve
 * both programs; so may its packed constants (the DRAM plan's memo).
 */
class OpPlanner {
  private readonly plans = new Map<string, OpPlan>();
  readonly constants: ConstantsMemo = new WeakMap();
  constructor(
    readonly lowered: Lowered,
    readonly cfg: ArchConfig,
    readonly batch: number,
    readonly packing: boolean,
  ) {}

  plan(i: number, cuts: readonly number[] = []): OpPlan {
    const op = this.lowered.ops[i]!;
    const key = `${i}:${op.terms.map((t) => t.src.layout).join()}:${cuts.join()}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = planOp(op, this.cfg, this.batch, this.packing, cuts);
      this.plans.set(key, plan);
    }
    return plan;
  }
}

/**
 * Band boundaries between layers, in place. A single-band layer whose first
 * band can do without the previous layer's last band gets a boundary there
 * when that is faster (overlapCut); each layer gets a boundary at the last row
 * its successor's first band reads, so that band can load while this layer
 * still computes its last band. The two depend on each other (the cut on
 * the previous layer's last band, the alignment on the cut), so they are
 * repeated until the cuts settle (at most three rounds).
 */
function bandCuts(planner: OpPlanner, plans: OpPlan[]): void {
  const { lowered, cfg, batch } = planner;
  const base = [...plans];
  const overlap: (number | undefined)[] = plans.map(() => undefined);
  const plan = (i: number, align?: number) =>
    planner.plan(i, [...(overlap[i] === undefined ? [] : [overlap[i]!]), ...(align === undefined ? [] : [align])]);
  for (let round = 0; round < 3; round++) {
    let changed = false;
    for (let j = 0; j + 1 < plans.length && batch === 1; j++) {
      const cut = overlapCut(plans[j]!, base[j + 1]!, cfg);
      if (cut === undefined || cut === overlap[j + 1]) continue;
      overlap[j + 1] = cut;
      changed = true;
      plans[j + 1] = plan(j + 1);
    }
    if (round > 0 && !changed) return;
    for (let j = 0; j + 1 < plans.length; j++) {
      const next = plans[j + 1]!;
      if (plans[j]!.stacked || next.stacked) continue;
      const k = next.op.terms.findIndex((t) => t.src.id === lowered.ops[j]!.dst.id);
      const first = next.tiles[0]?.terms[k];
      if (k < 0 || !first) continue;
      plans[j] = plan(j, first.iy0 + first.inH);
    }
  }
}

/** Plan, lay out and schedule a lowered network; the program with its estimated cycles. */
function buildProgram(net: Network, planner: OpPlanner, phase: (phase: string) => void): Program {
  const { lowered, cfg, batch } = planner;
  const ops = lowered.ops.length;
  const plans = lowered.ops.map((_, i) => {
    phase(`planning layer ${i + 1} of ${ops}`);
    return planner.plan(i);
  });
  bandCuts(planner, plans);
  const dram = planDram(lowered, plans, cfg, batch, planner.constants);
  const sched = new Scheduler(cfg, dram);
  plans.forEach((p, i) => {
    phase(`scheduling layer ${i + 1} of ${ops}`);
    sched.emitOp(p, i);
  });
  const s = sched.finish();
  phase(`checking ${s.code.length} instructions`);
  const legal = legalityTest(cfg);
  s.code.forEach((inst, i) => {
    if (!legal(inst)) checkInstruction(inst, cfg, `compiled instruction ${i}`);
  });

  // Layer ranges partition the code at each layer's first compute instruction, so a
  // layer's span (first start .. last end) runs from its own compute to the next
  // layer's, with prefetched loads counted where they happen.
  const firstCompute = lowered.groups.map(() => -1);
  s.groupOf.forEach((g, i) => {
    if (g >= 0 && s.isCompute[i] && firstCompute[g]! < 0) firstCompute[g] = i;
  });
  const layers: LayerInfo[] = lowered.groups.map((g, gi) => {
    const first = gi === 0 ? 0 : firstCompute[gi]!;
    const next = gi + 1 < lowered.groups.length ? firstCompute[gi + 1]! : s.code.length - 1;
    return { name: g.name, kind: g.kind, macs: g.macs * batch, firstInstruction: first, lastInstruction: next - 1 };
  });
  const program: Program = {
    config: cfg,
    configHash: configHash(cfg),
    code: s.code,
    segments: dram.segments,
    inputs: [descriptor(lowered.input, batch)],
    outputs: [descriptor(lowered.output, batch)],
    layers,
    meta: {
      model: net.name,
      compiler: `nibble-compiler ${COMPILER_VERSION}`,
      batch,
      estimatedCycles: 0,
      dramBytes: dram.size,
    },
  };
  phase('estimating cycles');
  program.meta['estimatedCycles'] = estimateSchedule(program).cycles;
  notesOf.set(program, s.notes);
  return program;
}

/**
 * The compiler's estimate of a program's timing: dispatch, start and end of
 * every instruction and the total, from the simulator's timing model, so it
 * is exactly what every engine measures (meta.estimatedCycles is its total).
 */
export function estimateSchedule(program: Program): Schedule {
  return scheduleProgram(program, Infinity);
}

/** Assembly text of a program with per-layer headers and per-tile comments. */
export function compileListing(program: Program): string {
  const text = disassembleProgram(program.code, program.config, { layers: program.layers });
  const notes = notesOf.get(program);
  if (!notes) return text;
  const lines = text.split('\n');
  const out: string[] = [];
  let i = 0;
  for (const line of lines) {
    if (line.startsWith(';') || line === '') {
      out.push(line);
      continue;
    }
    const note = notes[i++];
    out.push(note ? `${line}  ; ${note}` : line);
  }
  return out.join('\n');
}
