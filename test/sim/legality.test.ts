/**
 * prepareProgram's quick legality filter must never accept what
 * checkInstruction (isa/encoding.ts) rejects: mutated instructions of random
 * programs (fields out of range, non-integers, extra or missing keys, bad
 * flags) must fail with checkInstruction's own message, and valid ones pass.
 */
import { describe, expect, it } from 'vitest';
import { checkInstruction } from '../../isa/encoding.js';
import type { Instruction } from '../../isa/table.js';
import { randomConfig, randomProgram } from '../../sim/index.js';
import { mulberry32 } from '../../sim/memory.js';
import { prepareProgram } from '../../sim/prepare.js';

describe('instruction legality in prepareProgram == checkInstruction', () => {
  it('on 600 mutated instructions', () => {
    let rejected = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const cfg = randomConfig(seed);
      const program = randomProgram(seed, cfg, { rounds: 3 });
      const rnd = mulberry32(seed);
      const idx = Math.floor(rnd() * (program.code.length - 1));
      const rec = { ...program.code[idx]! } as unknown as Record<string, unknown>;
      const keys = Object.keys(rec).filter((k) => k !== 'op');
      const k = keys[Math.floor(rnd() * keys.length)]!;
      const kind = Math.floor(rnd() * 7);
      if (kind === 0) rec[k] = (rec[k] as number) + 2 ** Math.floor(rnd() * 30);
      else if (kind === 1) rec[k] = -1;
      else if (kind === 2) rec[k] = 0.5;
      else if (kind === 3) rec['bogus'] = 0;
      else if (kind === 4) delete rec[k];
      else if (kind === 5) rec[k] = String(rec[k]);
      else rec['pop_prev'] = 1;
      const inst = rec as unknown as Instruction;
      let expected: string | undefined;
      try {
        checkInstruction(inst, cfg, `instruction ${idx}`);
      } catch (e) {
        expected = (e as Error).message;
      }
      const code = program.code.slice();
      code[idx] = inst;
      let actual: string | undefined;
      try {
        prepareProgram({ ...program, code });
      } catch (e) {
        actual = (e as Error).message;
      }
      if (expected === undefined) {
        if (actual !== undefined) expect(actual, `seed ${seed}`).not.toContain('illegal instruction');
      } else {
        rejected++;
        expect(actual, `seed ${seed}`).toContain(expected);
      }
    }
    expect(rejected).toBeGreaterThan(300);
  });
});
