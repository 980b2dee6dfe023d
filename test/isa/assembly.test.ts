import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { IsaError } from '../../arch/errors.js';
import { assembleProgram, disassembleProgram, encodeProgramCode } from '../../isa/index.js';
import { arbConfigAndCode } from './arbitraries.js';

const cfg = DEFAULT_CONFIG;

/** The IsaError message text of assembling `text` as file 'k.s'. */
function asmError(text: string): string {
  try {
    assembleProgram(text, cfg, 'k.s');
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    return (e as Error).message;
  }
  throw new Error('assembled without error');
}

const LOAD = 'LOAD buf=inp sram_addr=0 dram_addr=0x100 x_count=4 y_count=2 dram_stride=64';

describe('assembler', () => {
  it('disassemble -> assemble gives identical bits (random programs, random configs)', () => {
    fc.assert(
      fc.property(arbConfigAndCode, fc.boolean(), ([c, code], indices) => {
        const text = disassembleProgram(code, c, { indices });
        const back = assembleProgram(text, c);
        expect(encodeProgramCode(back, c)).toEqual(encodeProgramCode(code, c));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts comments, blank lines, hex, enum names or numbers, flags in any place, any case of mnemonic', () => {
    const code = assembleProgram(
      [
        '# a program',
        '',
        `  load push_next ${LOAD.slice(5)}   ; first`,
        'NOP unit=2 pop_prev',
        'nop unit=compute push_prev=1 pop_next=0',
        'HALT',
      ].join('\n'),
      cfg,
    );
    expect(code).toHaveLength(4);
    expect(code[0]).toMatchObject({ op: 'LOAD', push_next: 1, buf: 0, dram_addr: 256, dram_stride: 64 });
    expect(code[1]).toMatchObject({ op: 'NOP', unit: 2, pop_prev: 1 });
    expect(code[2]).toMatchObject({ op: 'NOP', unit: 1, push_prev: 1, pop_next: 0 });
    expect(code[3]).toEqual({ op: 'HALT', pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 });
  });

  it('disassembly has index comments and layer headers on request', () => {
    const code = assembleProgram(`${LOAD}\nNOP unit=load\nHALT\n`, cfg);
    const text = disassembleProgram(code, cfg, {
      indices: true,
      layers: [
        { name: 'conv1', kind: 'conv2d', macs: 10, firstInstruction: 0, lastInstruction: 0 },
        { name: 'fc', kind: 'dense', macs: 5, firstInstruction: 1, lastInstruction: 2 },
      ],
    });
    expect(text).toBe(
      [
        '; layer conv1 (conv2d)',
        'LOAD buf=inp sram_addr=0 dram_addr=0x100 x_count=4 y_count=2 dram_stride=64  ; [0]',
        '; layer fc (dense)',
        'NOP unit=load  ; [1]',
        'HALT  ; [2]',
        '',
      ].join('\n'),
    );
  });

  describe('errors carry file:line:col of the offending token', () => {
    it('unknown mnemonic, with a suggestion', () => {
      expect(asmError('\n  GEMN foo=1')).toMatch(/^k\.s:2:3: unknown mnemonic 'GEMN' \(did you mean GEMM\?\)/);
    });
    it('unknown field, listing the valid ones', () => {
      expect(asmError(`${LOAD} sram=3`)).toBe(
        `k.s:1:${LOAD.length + 2}: LOAD has no field 'sram' (did you mean sram_addr?); valid fields: buf, sram_addr, dram_addr, x_count, y_count, dram_stride`,
      );
    });
    it('duplicate field', () => {
      expect(asmError(`${LOAD} buf=wgt`)).toMatch(
        new RegExp(`^k\\.s:1:${LOAD.length + 2}: duplicate field 'buf' \\(first given at column 6\\)`),
      );
    });
    it('duplicate flag', () => {
      expect(asmError('NOP unit=compute pop_prev pop_prev')).toMatch(/^k\.s:1:27: duplicate flag 'pop_prev'/);
    });
    it('missing fields, all named', () => {
      expect(asmError('; c\n LOAD buf=inp x_count=1')).toBe(
        'k.s:2:2: LOAD is missing fields sram_addr, dram_addr, y_count, dram_stride (all fields are required)',
      );
    });
    it('bad number', () => {
      expect(asmError('LOAD buf=inp sram_addr=12a dram_addr=0 x_count=1 y_count=1 dram_stride=0')).toMatch(
        /^k\.s:1:24: LOAD\.sram_addr: bad number '12a' \(decimal or 0x hex\)/,
      );
      expect(asmError('LOAD buf=inp sram_addr=-1 dram_addr=0 x_count=1 y_count=1 dram_stride=0')).toMatch(
        /^k\.s:1:24: .*bad number '-1'/,
      );
    });
    it('bad enum name', () => {
      expect(asmError('NOP unit=fetch')).toMatch(
        /^k\.s:1:10: NOP\.unit: 'fetch' is not one of load, compute, store or a number/,
      );
    });
    it('value out of range, with range and width', () => {
      expect(asmError('LOAD buf=inp sram_addr=0 dram_addr=0 x_count=0 y_count=1 dram_stride=0')).toBe(
        'k.s:1:46: LOAD.x_count = 0 is out of range [1, 4095] (12-bit field)',
      );
      expect(asmError('LOAD buf=inp sram_addr=0 dram_addr=0x10000000 x_count=1 y_count=1 dram_stride=0')).toBe(
        'k.s:1:36: LOAD.dram_addr = 0x10000000 is out of range [0, 268435455] (28-bit field)',
      );
      expect(
        asmError('LOAD buf=inp sram_addr=99999999999999999999 dram_addr=0 x_count=1 y_count=1 dram_stride=0'),
      ).toBe('k.s:1:24: LOAD.sram_addr = 99999999999999999999 is out of range [0, 2047] (11-bit field)');
      expect(asmError('NOP unit=3')).toMatch(
        /^k\.s:1:10: NOP\.unit = 3 is out of range \[0, 2\] \(2-bit field\) \(load=0, compute=1, store=2\)/,
      );
      expect(
        asmError(
          'REQUANT acc_addr=0 out_addr=0 param_addr=0 in_h=1 in_w=1 out_h=1 out_w=1 pool_k=1 pool_s=1 out_signed=0 clamp_bits=5',
        ),
      ).toMatch(/^k\.s:1:\d+: REQUANT\.clamp_bits = 5 is out of range \[1, 4\] \(4-bit field\)/);
    });
    it('dependency flag illegal for the unit', () => {
      expect(asmError(`LOAD pop_prev ${LOAD.slice(5)}`)).toMatch(
        /^k\.s:1:6: pop_prev is illegal here: LOAD runs on the load unit, which has no previous unit/,
      );
      expect(asmError('NOP push_next unit=store')).toMatch(
        /^k\.s:1:5: push_next is illegal here: NOP runs on the store unit, which has no next unit/,
      );
      expect(asmError('HALT pop_next')).toMatch(/^k\.s:1:6: HALT cannot pop or push dependency tokens/);
    });
    it('garbage tokens', () => {
      expect(asmError('NOP unit=load foo')).toMatch(
        /^k\.s:1:15: unexpected 'foo': expected field=value or a dependency flag/,
      );
      expect(asmError('NOP unit=load =4')).toMatch(/^k\.s:1:15: malformed '=4'/);
      expect(asmError('NOP unit==load')).toMatch(/^k\.s:1:5: malformed 'unit==load'/);
      expect(asmError('NOP unit=')).toMatch(/^k\.s:1:5: malformed 'unit='/);
      expect(asmError('NOP pop_prev=2 unit=compute')).toMatch(/^k\.s:1:14: flag pop_prev must be 0 or 1/);
      expect(asmError('HALT x=1')).toMatch(/^k\.s:1:6: HALT has no field 'x'; valid fields: none/);
    });
    it('errors after the first line report the right line', () => {
      expect(
        asmError(`${LOAD}\n${LOAD}\n\nNOP unit=compute pop_prev push_next\nNOP unit=load push_next=1 bogus=1`),
      ).toMatch(/^k\.s:5:27: NOP has no field 'bogus'/);
    });
  });
});

describe('assembler robustness', () => {
  it('random text never crashes the assembler with anything but IsaError', () => {
    const words = [
      'LOAD',
      'NOP',
      'HALT',
      'GEMM',
      'unit=load',
      'buf=wgt',
      'pop_prev',
      'x_count=0x10',
      '=',
      ';',
      '#',
      'sram_addr=99999999999999999999',
      '\n',
      ' ',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...words), fc.string({ maxLength: 6 })), { maxLength: 20 }),
        (parts) => {
          try {
            assembleProgram(parts.join(' '), cfg);
          } catch (e) {
            expect(e).toBeInstanceOf(IsaError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
