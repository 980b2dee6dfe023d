/**
 * A deliberately naive run of a program for checking the engines' data path:
 * each instruction's `naive` piece (sim/ops/<op>.ts, rules in sim/ops/naive.ts)
 * on byte-level scratchpads packed with isa/layout.ts, in program order (valid
 * for programs whose tokens order every hazard in program order, as
 * randomProgram's do).
 */
import { deriveArch } from '../../arch/config.js';
import { packTensor, unpackEntry, unpackTensor } from '../../isa/layout.js';
import type { Program } from '../../isa/program.js';
import { simOpOf } from '../../sim/ops/index.js';
import type { NaiveMachine } from '../../sim/ops/naive.js';

export function naiveRun(
  p: Program,
  inputs: Record<string, Int32Array>,
  dramSize: number,
): { dram: Uint8Array; outputs: Record<string, Int32Array> } {
  const cfg = p.config;
  const a = deriveArch(cfg);
  const dram = new Uint8Array(dramSize);
  for (const s of p.segments) dram.set(s.bytes, s.dramAddr);
  for (const d of p.inputs) {
    const bytes = packTensor(d, inputs[d.name]!, cfg);
    dram.set(bytes.subarray(0, Math.min(bytes.length, dram.length - d.dramAddr)), d.dramAddr);
  }
  const sp = cfg.scratchpad;
  const m: NaiveMachine = {
    arch: a,
    dram,
    inp: new Uint8Array(sp.inputEntries * a.inpEntryBytes),
    wgt: new Uint8Array(sp.weightEntries * a.wgtEntryBytes),
    param: new Uint8Array(sp.paramEntries * a.paramEntryBytes),
    out: new Uint8Array(sp.outputEntries * a.outEntryBytes),
    acc: Array.from({ length: sp.accEntries }, () => new Array<number>(a.cols).fill(0)),
    halted: false,
    lane(buf, eb, entry, bits, signed, lanes = a.cols) {
      const v = new Array<number>(lanes);
      unpackEntry(buf, entry * eb, lanes, bits, signed, v);
      return v;
    },
  };
  for (const inst of p.code) {
    // each opcode's module accepts its own instructions (as instructionTiming in sim/ops/index.ts)
    simOpOf(inst).naive(inst as never, m);
    if (m.halted) break;
  }
  const outputs: Record<string, Int32Array> = {};
  for (const d of p.outputs) outputs[d.name] = unpackTensor(d, dram, cfg);
  return { dram, outputs };
}
