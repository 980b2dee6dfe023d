/**
 * The register map (rtl-gen/shell/registers.ts): docs/registers.md is generated
 * from it (drift test), the generated C header carries every register, field,
 * config number and ISA field, and the driver compiles as strict C99 and C++.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, DEFAULT_CONFIG } from '../../arch/index.js';
import { isaLayout } from '../../isa/index.js';
import { driverFiles, generateRegsHeader, registerMap, renderRegistersMarkdown } from '../../rtl-gen/shell/index.js';
import { CFG4, CFG8 } from '../rtl/programs.js';
import { haveTools } from '../rtl/tools-required.js';

const docPath = new URL('../../docs/registers.md', import.meta.url);
const HAVE_GCC = haveTools('test/board/registers.test.ts', ['gcc']);

describe('register map', () => {
  it('docs/registers.md is up to date (regenerate: UPDATE_DOCS=1 npx vitest run test/board/registers.test.ts)', () => {
    const fresh = renderRegistersMarkdown(DEFAULT_CONFIG);
    if (process.env['UPDATE_DOCS']) writeFileSync(docPath, fresh);
    expect(readFileSync(docPath, 'utf8')).toBe(fresh);
  });

  it('has unique, word-aligned offsets inside its span, the Vitis control block first', () => {
    for (const cfg of [DEFAULT_CONFIG, CFG4, CFG8]) {
      const m = registerMap(cfg);
      const offsets = m.registers.map((r) => r.offset);
      expect(new Set(offsets).size).toBe(offsets.length);
      for (const o of offsets) {
        expect(o % 4).toBe(0);
        expect(o).toBeLessThan(2 ** m.addrBits);
      }
      expect(m.registers.slice(0, 4).map((r) => `${r.name}@${r.offset}`)).toEqual([
        'CTRL@0',
        'GIE@4',
        'IER@8',
        'ISR@12',
      ]);
    }
  });

  it('holds the config: hash, array, buffers, bus and the instruction memory depth', () => {
    const m = registerMap(CFG4, { insnWords: 512 });
    const v = (name: string) => m.registers.find((r) => r.name === name)!.reset;
    const hash = configHash(CFG4);
    expect(v('CONFIG_HASH_HI').toString(16).padStart(8, '0') + v('CONFIG_HASH_LO').toString(16).padStart(8, '0')).toBe(
      hash,
    );
    expect(v('ARRAY')).toBe(4 | (4 << 16));
    expect(v('INP_ENTRIES')).toBe(CFG4.scratchpad.inputEntries);
    expect(v('BUS_BYTES')).toBe(8);
    expect(v('INSN_WORDS')).toBe(512);
    expect(v('ID')).toBe(0x4e49424c);
  });
});

describe('generated C header', () => {
  const h = generateRegsHeader(CFG8);
  it('defines every register, every field and every constant value', () => {
    for (const r of registerMap(CFG8).registers) {
      expect(h).toMatch(new RegExp(`#define NIBBLE_REG_${r.name} +0x${r.offset.toString(16).toUpperCase()}u`));
      for (const f of r.fields ?? []) expect(h).toContain(`#define NIBBLE_${r.name}_${f.name}_SHIFT`);
    }
    expect(h).toContain(`#define NIBBLE_CONFIG_HASH                       0x${configHash(CFG8)}ULL`);
    expect(h).toMatch(/#define NIBBLE_CFG_BUS_BYTES +2 /);
    // the core's sticky accumulator overflow is ERROR bit 6, named for nibble_run's report
    expect(h).toMatch(/#define NIBBLE_ERROR_ACC_OVF +0x40u /);
    expect(h).toMatch(/#define NIBBLE_ERROR_NAMES \{ .*"acc_ovf" \}/);
  });

  it('carries the ISA field layout of the config (isaLayout), not a copy', () => {
    for (const op of isaLayout(CFG8).values()) {
      expect(h).toMatch(new RegExp(`#define NIBBLE_OP_${op.mnemonic} +${op.opcode}\\n`));
      for (const f of op.fields) {
        const base = `NIBBLE_${op.mnemonic}_${f.name.toUpperCase()}`;
        expect(h).toMatch(new RegExp(`#define ${base}_LSB +${f.lsb}\\n`));
        expect(h).toMatch(new RegExp(`#define ${base}_WIDTH +${f.width}[ \\n]`));
      }
    }
    // another config moves fields: the header follows
    expect(generateRegsHeader(DEFAULT_CONFIG)).not.toBe(h);
  });

  it.skipIf(!HAVE_GCC)('the driver compiles as C99 (-Wall -Wextra -pedantic -Werror) and as C++', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nibble-driver-'));
    try {
      for (const f of driverFiles(CFG4)) writeFileSync(join(dir, f.name), f.text);
      for (const [cc, flags] of [
        ['gcc', ['-std=c99', '-Wall', '-Wextra', '-pedantic', '-Werror']],
        ['g++', ['-x', 'c++', '-Wall', '-Wextra', '-Werror']],
      ] as const) {
        for (const src of [
          'nibble_driver.c',
          'nibble_io_baremetal.c',
          'nibble_io_linux.c',
          'nibble_io_uart.c',
          'nibble_run.c',
        ]) {
          const r = spawnSync(cc, [...flags, '-c', src, '-o', `${src}.${cc}.o`], { cwd: dir, encoding: 'utf8' });
          expect(r.stderr, `${cc} ${src}`).toBe('');
          expect(r.status).toBe(0);
        }
      }
      const link = spawnSync(
        'gcc',
        ['-o', 'nibble_run', 'nibble_run.c', 'nibble_driver.c', 'nibble_io_linux.c', 'nibble_io_uart.c'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
      expect(link.status, link.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
