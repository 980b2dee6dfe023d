/** Hand-written programs for the directed simulator tests. */
import { configHash, DEFAULT_CONFIG, resolveConfig, type ArchConfig } from '../../arch/config.js';
import type { DramSegment, LayerInfo, Program, TensorDescriptor } from '../../isa/program.js';
import type { Instruction, Mnemonic } from '../../isa/table.js';
import { simulate, type Engine, type SimResult } from '../../sim/index.js';

export const F = { pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 } as const;

/** The fields whose 0 leaves the instruction as it was before they existed (tap packing, gemm_beside): defaulted here. */
const OFF: Partial<Record<Mnemonic, Record<string, number>>> = {
  LOAD: { replicate: 0 },
  GEMM: { taps: 0, nibble_lanes: 0 },
  REQUANT: { gemm_beside: 0 },
};

/** An instruction with zero token flags unless given (and tap packing off unless given). */
export function ins<M extends Mnemonic>(op: M, fields: Record<string, number> = {}): Instruction {
  return { op, ...F, ...OFF[op], ...fields } as unknown as Instruction;
}

export const HALT = ins('HALT');

/** A GEMM of one 1x1 pass at address 0 of every buffer, with `f` overriding any field. */
export function gemmIns(f: Record<string, number> = {}): Instruction {
  return ins('GEMM', {
    wgt_addr: 0,
    inp_addr: 0,
    acc_addr: 0,
    in_h: 1,
    in_w: 1,
    out_h: 1,
    out_w: 1,
    kernel_h: 1,
    kernel_w: 1,
    stride_h: 1,
    stride_w: 1,
    pad_top: 0,
    pad_left: 0,
    ci_blocks: 1,
    accumulate: 0,
    act_signed: 0,
    pshift: 0,
    ...f,
  });
}

export function makeProgram(
  code: Instruction[],
  opts: {
    config?: unknown;
    segments?: DramSegment[];
    inputs?: TensorDescriptor[];
    outputs?: TensorDescriptor[];
    layers?: LayerInfo[];
  } = {},
): Program {
  const config: ArchConfig = opts.config ? resolveConfig(opts.config) : structuredClone(DEFAULT_CONFIG);
  return {
    config,
    configHash: configHash(config),
    code,
    segments: opts.segments ?? [],
    inputs: opts.inputs ?? [],
    outputs: opts.outputs ?? [],
    layers: opts.layers ?? [],
    meta: {},
  };
}

export const ENGINES: Engine[] = ['timing', 'fast', 'cycle'];

/** Run all three engines, check they agree on timing and counters, return the fast result. */
export function runAll(p: Program, inputs?: Record<string, Int32Array>): SimResult {
  const rs = ENGINES.map((engine) => simulate(p, { engine, ...(inputs ? { inputs } : {}) }));
  const [t, f, c] = rs as [SimResult, SimResult, SimResult];
  for (const r of [f, c]) {
    if (r.cycles !== t.cycles) throw new Error(`${r.engine}: cycles ${r.cycles} != timing ${t.cycles}`);
    if (Array.from(r.start).join() !== Array.from(t.start).join())
      throw new Error(`${r.engine}: S ${Array.from(r.start)} != timing ${Array.from(t.start)}`);
    if (Array.from(r.end).join() !== Array.from(t.end).join())
      throw new Error(`${r.engine}: E ${Array.from(r.end)} != timing ${Array.from(t.end)}`);
    if (Array.from(r.dispatch).join() !== Array.from(t.dispatch).join()) throw new Error(`${r.engine}: D differs`);
    if (JSON.stringify(r.counters) !== JSON.stringify(t.counters)) {
      throw new Error(`${r.engine}: counters differ:\n${JSON.stringify(r.counters)}\n${JSON.stringify(t.counters)}`);
    }
  }
  if (Buffer.compare(Buffer.from(f.dram!), Buffer.from(c.dram!)) !== 0) throw new Error('fast and cycle DRAM differ');
  return f;
}

/** Expect the same SimError message from every engine; returns it. */
/** The diagnostic code every engine stops `p` with (they must agree). */
export function errorCodeOfAll(p: Program, opts: { maxCycles?: number } = {}, engines: Engine[] = ENGINES): string {
  const codes = engines.map((engine) => {
    try {
      simulate(p, { engine, ...opts });
    } catch (e) {
      return String((e as { code?: unknown }).code);
    }
    return `${engine}: no error`;
  });
  if (new Set(codes).size !== 1) throw new Error(`engines disagree:\n${codes.join('\n')}`);
  return codes[0]!;
}

export function errorOfAll(p: Program, opts: { maxCycles?: number } = {}, engines: Engine[] = ENGINES): string {
  const msgs = engines.map((engine) => {
    try {
      simulate(p, { engine, ...opts });
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
    return `${engine}: no error`;
  });
  if (new Set(msgs).size !== 1) throw new Error(`engines disagree:\n${msgs.join('\n')}`);
  return msgs[0]!;
}
