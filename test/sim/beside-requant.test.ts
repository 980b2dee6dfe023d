/**
 * Issue 12: the GEMM right after a REQUANT with gemm_beside = 1 starts while
 * that REQUANT runs (docs/architecture.md 7.3): S >= S_rq + 1 instead of E_rq,
 * E >= E_rq + 1, one such GEMM per REQUANT. The three engines agree on every
 * start and end; outputs equal those without the flag; a beside GEMM whose
 * ACC writes meet the REQUANT's ACC reads is refused, naming both.
 */
import { describe, expect, it } from 'vitest';
import { IsaError } from '../../arch/errors.js';
import { checkTokenBalance } from '../../isa/tokens.js';
import type { Instruction } from '../../isa/table.js';
import { thrownMessage } from '../thrown.js';
import { HALT, errorOfAll, gemmIns, ins, makeProgram, runAll } from './helpers.js';

const load = (buf: number, sram: number, dram: number, x: number, flags: Record<string, number> = {}) =>
  ins('LOAD', { buf, sram_addr: sram, dram_addr: dram, x_count: x, y_count: 1, dram_stride: 0, ...flags });
const store = (sram: number, dram: number, x: number, flags: Record<string, number> = {}) =>
  ins('STORE', { sram_addr: sram, dram_addr: dram, x_count: x, y_count: 1, dram_stride: 0, ...flags });
/** a 3x3 GEMM over an h x 8 map (P = (h-2) x 6 pixels, 9 passes) into ACC from `acc` */
const gemm = (h: number, acc: number, flags: Record<string, number> = {}) =>
  gemmIns({ in_h: h, in_w: 8, out_h: h - 2, out_w: 6, kernel_h: 3, kernel_w: 3, acc_addr: acc, ...flags });
const requant = (rows: number, acc: number, out: number, flags: Record<string, number> = {}) =>
  ins('REQUANT', {
    acc_addr: acc,
    out_addr: out,
    param_addr: 0,
    in_h: rows,
    in_w: 6,
    out_h: rows,
    out_w: 6,
    pool_k: 1,
    pool_s: 1,
    out_signed: 0,
    clamp_bits: 4,
    ...flags,
  });

const segments = [{ name: 'data', dramAddr: 0, bytes: Uint8Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xf7) }];

/** Two bands: GEMM, REQUANT, then the second band's GEMM (beside it when `beside`) and its REQUANT. */
function twoBands(beside: number, second: { h: number; acc: number } = { h: 8, acc: 100 }): Instruction[] {
  const r2 = second.h - 2;
  return [
    load(1, 0, 1024, 144),
    load(2, 0, 2048, 1),
    load(0, 0, 0, 64, { push_next: 1 }),
    gemm(8, 0, { pop_prev: 1 }),
    requant(6, 0, 0, { gemm_beside: beside }),
    gemm(second.h, second.acc),
    requant(r2, second.acc, 36, { push_next: 1 }),
    store(0, 3072, 36 + r2 * 6, { pop_prev: 1 }),
    HALT,
  ];
}

const run = (code: Instruction[]) => runAll(makeProgram(code, { segments }));

describe('GEMM beside a REQUANT (REQUANT gemm_beside)', () => {
  it('starts the cycle after the REQUANT starts and ends after it; same outputs, fewer cycles', () => {
    const off = run(twoBands(0));
    const on = run(twoBands(1));
    expect(Buffer.from(on.dram!)).toEqual(Buffer.from(off.dram!));
    // without the flag the GEMM waits for the REQUANT's end
    expect(off.start[5]).toBe(off.end[4]);
    expect(on.start[5]).toBe(on.start[4]! + 1);
    expect(on.end[5]).toBeGreaterThan(on.end[4]!);
    expect(on.cycles).toBe(off.cycles - (off.end[4]! - off.start[4]! - 1));
  });

  it('a GEMM that drains before the REQUANT ends retires the cycle after it (in order)', () => {
    // a long REQUANT (108 reads) beside a short GEMM (one 1x1 pass of one pixel)
    const code = twoBands(1);
    code[2] = load(0, 0, 0, 160, { push_next: 1 });
    code[3] = gemm(20, 0, { pop_prev: 1 });
    code[4] = requant(18, 0, 0, { gemm_beside: 1 });
    code[5] = gemmIns({ in_h: 1, in_w: 1, out_h: 1, out_w: 1, acc_addr: 120 });
    code[6] = requant(1, 120, 108, { push_next: 1 });
    code[7] = store(0, 3072, 109, { pop_prev: 1 });
    const r = run(code);
    expect(r.end[5]).toBe(r.end[4]! + 1);
  });

  it('only the first GEMM after the REQUANT starts beside it', () => {
    const code = twoBands(1);
    code.splice(6, 0, gemm(8, 200));
    code[7] = requant(6, 200, 36, { push_next: 1 });
    const r = run(code);
    expect(r.start[6]).toBeGreaterThanOrEqual(r.end[4]!);
  });

  it('refuses a beside GEMM writing ACC entries the REQUANT reads, naming both', () => {
    const msg =
      'GEMM (compute unit) writes ACC [30, 65] while instruction 4, a REQUANT (compute unit) reading ACC [0, 35], ' +
      'may still run: its gemm_beside=1 starts the GEMM beside it (write-after-read race on ACC [30, 35])';
    const racy = twoBands(1, { h: 8, acc: 30 });
    expect(errorOfAll(makeProgram(racy, { segments }))).toBe(`SimError: instruction 5: ${msg}`);
    // the static checker names it too
    const p = makeProgram(racy, { segments });
    expect(
      thrownMessage(() => checkTokenBalance(p.code, { queues: p.config.queues, config: p.config }), IsaError),
    ).toContain(msg);
    // without the flag the same ACC reuse is ordered (the GEMM waits for the REQUANT)
    expect(() => run(twoBands(0, { h: 8, acc: 30 }))).not.toThrow();
  });

  it('a machine without gemmBeside (config) refuses the flag on every engine; without the flag it runs as before', () => {
    const config = { gemmBeside: false };
    expect(errorOfAll(makeProgram(twoBands(1), { segments, config }))).toBe(
      'SimError: instruction 4: REQUANT gemm_beside = 1 needs a machine that starts a GEMM beside a REQUANT (config gemmBeside is false)',
    );
    const off = runAll(makeProgram(twoBands(0), { segments, config }));
    expect(off.cycles).toBe(run(twoBands(0)).cycles);
  });
});
