/**
 * Instruction fields the simulator and compiler implement and the generated RTL
 * does not yet (tap packing: GEMM taps / nibble_lanes, LOAD replicate; issue 12).
 * The generator leaves them unread; co-simulation refuses a program that sets
 * one, naming the instruction, instead of reporting a mismatch the RTL cannot help.
 */
import type { Instruction, Mnemonic } from '../isa/index.js';

export const RTL_PENDING_FIELDS: Partial<Record<Mnemonic, readonly string[]>> = {
  GEMM: ['taps', 'nibble_lanes'],
  LOAD: ['replicate'],
};

/** Whether the generated RTL reads this field (false for the pending ones above). */
export function rtlReads(op: Mnemonic, field: string): boolean {
  return !RTL_PENDING_FIELDS[op]?.includes(field);
}

/** The first instruction that sets a pending field, as one line; undefined when the RTL runs them all. */
export function rtlPendingUse(code: readonly Instruction[]): string | undefined {
  for (let i = 0; i < code.length; i++) {
    const inst = code[i]!;
    for (const f of RTL_PENDING_FIELDS[inst.op] ?? []) {
      const v = (inst as unknown as Record<string, number>)[f] ?? 0;
      if (v !== 0)
        return `instruction ${i}: ${inst.op} ${f}=${v} (tap packing) is not in the generated RTL yet: the simulator runs it, the co-simulation cannot`;
    }
  }
  return undefined;
}
