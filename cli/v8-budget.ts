/**
 * V8's profiler budget for the one-shot commands (`nibble sim`, `nibble
 * compile`): 4x its default (bytes of bytecode run per tick). Such a process
 * runs most of its code a few hundred to a few thousand times; at the default
 * budget much of it goes through TurboFan in background threads, which a
 * process that exits a few milliseconds later pays in CPU time without getting
 * it back; hot loops are still optimized (docs/performance.md). Set by the
 * command's handler, after the CLI's code cache is taken (V8 takes a cache
 * only under the flags it was made with).
 */
import { setFlagsFromString } from 'node:v8';

export const ONE_SHOT_INTERRUPT_BUDGET = 4 * 67584;

export function useOneShotBudget(): void {
  setFlagsFromString(`--interrupt-budget=${ONE_SHOT_INTERRUPT_BUDGET}`);
}
