/**
 * Which unit runs an instruction and which token channels it pops and
 * pushes, as the token checker (isa/tokens.ts) and the race detector
 * (isa/hazards.ts) both read them.
 */
import { IsaError } from '../arch/index.js';
import { stopsFetch, unitOf, type Instruction } from './table.js';
import { DEP_FLAG_NAMES, depFlagError, tokenChannel, type TokenChannel, type Unit } from './word.js';

/** The unit that runs an instruction and the channels it pops and pushes. */
export interface Decoded {
  unit: Unit | undefined;
  pops: TokenChannel[];
  pushes: TokenChannel[];
}

/** An instruction's unit and token channels; IsaError naming `where` for an illegal flag. */
export function decodeTokens(inst: Instruction, where: string): Decoded {
  const unit = unitOf(inst);
  const pops: TokenChannel[] = [];
  const pushes: TokenChannel[] = [];
  for (const flag of DEP_FLAG_NAMES) {
    const v = inst[flag];
    if (v !== 0 && v !== 1) throw new IsaError(`${flag} must be 0 or 1, got ${JSON.stringify(v)}`, where);
    if (!v) continue;
    const ch = unit ? tokenChannel(unit, flag) : undefined;
    if (!ch) throw new IsaError(depFlagError(inst.op, unit, flag)!, where);
    (flag.startsWith('pop') ? pops : pushes).push(ch);
  }
  if (unit === undefined && !stopsFetch(inst))
    throw new IsaError(`cannot tell which unit runs ${String(inst.op)}`, where);
  return { unit, pops, pushes };
}
