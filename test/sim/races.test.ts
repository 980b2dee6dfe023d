/**
 * Issue 15, part 1: a program whose scratchpad or DRAM accesses on different
 * units no dependency token orders is refused by every engine and by the
 * static checker, naming both instructions (index, and file:line for
 * assembled programs). Such programs ran before, and the fast and cycle
 * engines gave them different outputs with identical cycles.
 */
import { describe, expect, it } from 'vitest';
import { IsaError, SimError } from '../../arch/errors.js';
import { assembleProgram, assemblySourceLines, disassembleProgram } from '../../isa/assembly.js';
import { checkTokenBalance } from '../../isa/tokens.js';
import type { Instruction } from '../../isa/table.js';
import { simulate } from '../../sim/index.js';
import { thrownMessage } from '../thrown.js';
import { HALT, errorOfAll, gemmIns, ins, makeProgram, runAll } from './helpers.js';

const load = (buf: number, sram: number, dram: number, x: number, flags: Record<string, number> = {}) =>
  ins('LOAD', { buf, sram_addr: sram, dram_addr: dram, x_count: x, y_count: 1, dram_stride: 0, ...flags });
const store = (sram: number, dram: number, x: number, flags: Record<string, number> = {}) =>
  ins('STORE', { sram_addr: sram, dram_addr: dram, x_count: x, y_count: 1, dram_stride: 0, ...flags });
const gemm = (flags: Record<string, number> = {}) => gemmIns({ in_h: 2, in_w: 2, out_h: 2, out_w: 2, ...flags });
const requant = (flags: Record<string, number> = {}) =>
  ins('REQUANT', {
    acc_addr: 0,
    out_addr: 0,
    param_addr: 0,
    in_h: 2,
    in_w: 2,
    out_h: 2,
    out_w: 2,
    pool_k: 1,
    pool_s: 1,
    out_signed: 0,
    clamp_bits: 4,
    ...flags,
  });

const segments = [{ name: 'data', dramAddr: 0, bytes: Uint8Array.from({ length: 1024 }, (_, i) => (i * 37) & 0xff) }];
const program = (code: Instruction[]) => makeProgram(code, { segments });

/** The program: the second band load overwrites INP while the GEMM may still read it. */
const RACY = [
  load(0, 0, 0, 4), // INP [0, 3]
  load(1, 0, 256, 16), // WGT [0, 15]
  load(2, 0, 512, 1, { push_next: 1 }), // PARAM [0]
  gemm({ pop_prev: 1 }), // reads INP [0, 3]
  load(0, 0, 64, 4), // overwrites INP [0, 3]: nothing waits for the GEMM
  requant({ push_next: 1 }),
  store(0, 768, 4, { pop_prev: 1 }),
  HALT,
];
const RACE_MESSAGE =
  'LOAD (load unit) writes INP [0, 3] while instruction 3, a GEMM (compute unit) reading INP [0, 3], ' +
  'may still run: no dependency token orders them (write-after-read race on INP [0, 3])';

describe('the race detector', () => {
  it('every engine refuses the issue program, naming both instructions', () => {
    expect(errorOfAll(program(RACY))).toBe(`SimError: instruction 4: ${RACE_MESSAGE}`);
  });

  it('the static checker finds it before a run (given the machine); the token balance alone has no complaint', () => {
    const p = program(RACY);
    expect(checkTokenBalance(p.code, { queues: p.config.queues }).warnings).toEqual([]);
    expect(
      thrownMessage(() => checkTokenBalance(p.code, { queues: p.config.queues, config: p.config }), IsaError),
    ).toBe(`instruction 4: ${RACE_MESSAGE}`);
  });

  it('the same program with the GEMM telling the load unit it is done runs, on every engine alike', () => {
    const fixed = [...RACY];
    fixed[3] = gemm({ pop_prev: 1, push_prev: 1 });
    fixed[4] = load(0, 0, 64, 4, { pop_next: 1 });
    runAll(program(fixed));
  });

  it('read-after-write: a GEMM that does not wait for the LOAD of its band', () => {
    const code = [load(1, 0, 256, 16, { push_next: 1 }), load(0, 0, 0, 4), gemm({ pop_prev: 1 }), HALT];
    // the GEMM waits for the WGT load, which comes first; the INP load after it is not waited for
    expect(errorOfAll(program(code))).toBe(
      'SimError: instruction 2: GEMM (compute unit) reads INP [0, 3] while instruction 1, a LOAD (load unit) writing INP [0, 3], ' +
        'may still run: no dependency token orders them (read-after-write race on INP [0, 3])',
    );
  });

  it('OUT: a STORE of a tile no token says is written, and a REQUANT overwriting a tile still being stored', () => {
    const head = [load(1, 0, 256, 16), load(0, 0, 0, 4), load(2, 0, 512, 1, { push_next: 1 }), gemm({ pop_prev: 1 })];
    expect(errorOfAll(program([...head, requant(), store(0, 768, 4), HALT]))).toContain(
      'instruction 5: STORE (store unit) reads OUT [0, 3] while instruction 4, a REQUANT (compute unit) writing OUT [0, 3]',
    );
    const overwrite = [...head, requant({ push_next: 1 }), store(0, 768, 4, { pop_prev: 1 }), requant(), HALT];
    expect(errorOfAll(program(overwrite))).toContain(
      'instruction 6: REQUANT (compute unit) writes OUT [0, 3] while instruction 5, a STORE (store unit) reading OUT [0, 3], may still run: no dependency token orders them (write-after-read race on OUT [0, 3])',
    );
  });

  it('DRAM: a LOAD of bytes a STORE writes, with no relay through the compute unit', () => {
    const head = [load(1, 0, 256, 16), load(0, 0, 0, 4), load(2, 0, 512, 1, { push_next: 1 }), gemm({ pop_prev: 1 })];
    const code = [...head, requant({ push_next: 1 }), store(0, 768, 4, { pop_prev: 1 }), load(0, 8, 768, 4), HALT];
    expect(errorOfAll(program(code))).toBe(
      'SimError: instruction 6: LOAD (load unit) reads DRAM bytes [768, 799] while instruction 5, a STORE (store unit) writing DRAM bytes [768, 799], ' +
        'may still run: no dependency token orders them (read-after-write race on DRAM bytes [768, 799])',
    );
    // relayed: the STORE tells the compute unit, a NOP there tells the load unit
    const relayed = [
      ...head,
      requant({ push_next: 1 }),
      store(0, 768, 4, { pop_prev: 1, push_prev: 1 }),
      ins('NOP', { unit: 1, pop_next: 1, push_prev: 1 }),
      load(0, 8, 768, 4, { pop_next: 1 }),
      HALT,
    ];
    runAll(program(relayed));
  });

  it('an assembled program names both instructions by file and line', () => {
    const p = program(RACY);
    const text = `; the issue's racy program\n\n${disassembleProgram(p.code, p.config)}`;
    const code = assembleProgram(text, p.config, 'racy.s');
    const lines = assemblySourceLines(text);
    const e = (() => {
      try {
        simulate({ ...p, code, source: { file: 'racy.s', lines } }, { engine: 'fast' });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected a SimError');
    })();
    expect(e).toBeInstanceOf(SimError);
    expect(e.message).toBe(
      `racy.s:7 (instruction 4): ${RACE_MESSAGE.replace('instruction 3,', 'racy.s:6 (instruction 3),')}`,
    );
  });
});
