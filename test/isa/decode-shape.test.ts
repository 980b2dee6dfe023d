/**
 * Decoded instructions must be ordinary fast-mode objects, one hidden class per
 * opcode: objects in V8's dictionary mode made every engine loop over a program
 * read from a .nbl file 5-10x slower than over the compiler's own objects
 * (issue 17). Checked with V8's own predicates, not with a timing.
 */
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/index.js';
import { decodeProgramCode, encodeProgramCode, type Instruction } from '../../isa/index.js';
import { randomProgram } from '../../sim/index.js';

v8.setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

describe('decoded instruction objects', () => {
  it('are in fast mode and share one hidden class per opcode', () => {
    const code = randomProgram(5, DEFAULT_CONFIG, { rounds: 40 }).code;
    const decoded = decodeProgramCode(encodeProgramCode(code, DEFAULT_CONFIG), DEFAULT_CONFIG);
    const first = new Map<string, Instruction>();
    for (const inst of decoded) {
      expect(hasFastProperties(inst), inst.op).toBe(true);
      const f = first.get(inst.op);
      if (f) expect(haveSameMap(f, inst), inst.op).toBe(true);
      else first.set(inst.op, inst);
    }
    expect([...first.keys()].sort()).toEqual(expect.arrayContaining(['GEMM', 'LOAD', 'REQUANT', 'STORE']));
  });
});
