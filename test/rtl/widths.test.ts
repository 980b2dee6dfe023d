/**
 * Every width in the generated RTL follows the ISA table and the derived
 * architecture (no Verilator needed): a derived architecture with wider
 * tile dimensions, and instruction layouts with wider fixed-width fields,
 * move every declaration and every field slice with them. Where Verilator is
 * installed the widened designs are also linted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveArch, type DerivedArch } from '../../arch/index.js';
import { isaLayout, type Mnemonic, type OpLayout } from '../../isa/index.js';
import { generateVerilog, type FactSources } from '../../rtl-gen/index.js';
import { CFG4 } from './programs.js';
import { constantsOf, declaredWidth } from './verilog-text.js';
import { haveTools } from './tools-required.js';

/** The layouts with one field `by` bits wider (the fields above it move up). */
function widen(layouts: ReadonlyMap<Mnemonic, OpLayout>, op: Mnemonic, field: string, by: number) {
  const out = new Map(layouts);
  const l = layouts.get(op)!;
  let shift = 0;
  const fields = l.fields.map((f) => {
    const g = { ...f, lsb: f.lsb + shift };
    if (f.name === field) {
      g.width += by;
      g.max = 2 ** g.width - 1;
      shift += by;
    }
    return g;
  });
  out.set(op, { ...l, fields, usedBits: l.usedBits + by });
  return out;
}

function generate(sources: FactSources): Map<string, string> {
  return new Map(generateVerilog(CFG4, {}, sources).files.map((f) => [f.name.replace(/\.v$/, ''), f.text]));
}

/** Which opcode each decoded-field prefix reads, and from which queue head. */
const DECODERS: Record<string, Mnemonic> = { lh: 'LOAD', sh: 'STORE', gh: 'GEMM', rh: 'REQUANT', ph: 'POOL' };

/** Every `wire [..] <prefix>_<field> = <q>_head[msb:lsb]` must sit exactly where the layout puts the field. */
function checkDecoders(files: Map<string, string>, layouts: ReadonlyMap<Mnemonic, OpLayout>): number {
  let n = 0;
  for (const [mod, text] of files) {
    for (const m of text.matchAll(
      /\bwire\s+(?:\[[^\]]+\]\s+)?(lh|sh|gh|rh|ph)_(\w+) = [lcs]q_head\[(\d+)(?::(\d+))?\];/g,
    )) {
      const f = layouts.get(DECODERS[m[1]!]!)!.fields.find((x) => x.name === m[2]);
      if (!f) continue; // a header flag or the index
      const msb = Number(m[3]);
      const lsb = m[4] === undefined ? msb : Number(m[4]);
      expect({ mod, field: `${m[1]}_${m[2]}`, lsb, width: msb - lsb + 1 }).toEqual({
        mod,
        field: `${m[1]}_${m[2]}`,
        lsb: f.lsb,
        width: f.width,
      });
      expect(declaredWidth(text, `${m[1]}_${m[2]}`)).toBe(f.width);
      n++;
    }
  }
  return n;
}

function lintClean(files: Map<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nibble-widths-'));
  try {
    const names = [...files].map(([m, t]) => {
      writeFileSync(join(dir, `${m}.v`), t);
      return `${m}.v`;
    });
    const r = spawnSync('verilator', ['--lint-only', '-Wall', '--top-module', 'nibble_top', ...names], {
      cwd: dir,
      encoding: 'utf8',
    });
    return `${r.stdout}${r.stderr}`.split('\n').filter((l) => /%(Warning|Error)/.test(l));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HAVE_VERILATOR = haveTools('test/rtl/widths.test.ts', ['verilator']);

describe('RTL widths follow the derived architecture', () => {
  const base: DerivedArch = deriveArch(CFG4);
  const arch: DerivedArch = { ...base, dimBits: base.dimBits + 6 };
  const files = generate({ arch });
  const before = generate({});

  it('wider tile dimensions (dimBits + 6) widen the port, the counters and the descriptor', () => {
    const d = arch.dimBits;
    expect(declaredWidth(files.get('nibble_top')!, 'rd_req_entries')).toBe(d);
    for (const r of ['rs_x', 'rs_y', 'rq_left', 'rq_x']) expect(declaredWidth(files.get('nibble_load')!, r)).toBe(d);
    for (const r of ['st_x', 'st_y', 'st_xn']) expect(declaredWidth(files.get('nibble_store')!, r)).toBe(d);
    for (const r of ['g_in_h', 'g_in_w', 'd_in_h', 'v_in_w'])
      expect(declaredWidth(files.get('nibble_gemm')!, r)).toBe(d);
    expect(declaredWidth(files.get('nibble_gemm')!, 'v_hw_f')).toBe(2 * d);
    // the pass descriptor carries in_h and in_w, and the input coordinates iy0, ix0, which now need DIMB + 1 bits
    const c = (f: Map<string, string>, name: string) => constantsOf(f.get('nibble_gemm')!).get(name)!;
    expect(c(files, 'IW')).toBe(d + 1);
    expect(c(files, 'PDW') - c(before, 'PDW')).toBe(2 * 6 + 2 * (d + 1 - c(before, 'IW')));
  });

  it('every decoded field sits where the widened layout puts it', () => {
    expect(checkDecoders(files, isaLayout(arch))).toBeGreaterThan(30);
    expect(checkDecoders(before, isaLayout(base))).toBeGreaterThan(30);
  });

  it.skipIf(!HAVE_VERILATOR)('the widened design lints clean', { timeout: 120_000 }, () => {
    expect(lintClean(files)).toEqual([]);
  });
});

describe('RTL widths follow the instruction table', () => {
  const base = isaLayout(CFG4);
  let layouts = widen(base, 'GEMM', 'stride_h', 1);
  layouts = widen(layouts, 'REQUANT', 'pool_k', 1);
  layouts = widen(layouts, 'POOL', 'pool_k', 1);
  layouts = widen(layouts, 'LOAD', 'buf', 1);
  layouts = widen(layouts, 'GEMM', 'pshift', 2);
  const files = generate({ layouts });

  it('wider fixed fields (stride_h, pool_k, buf, pshift) widen the registers that hold them', () => {
    const gemm = files.get('nibble_gemm')!;
    for (const r of ['gh_stride_h', 'g_sh', 'v_sh', 'd_sh']) expect(declaredWidth(gemm, r)).toBe(4);
    for (const r of ['gh_stride_w', 'g_sw']) expect(declaredWidth(gemm, r)).toBe(3);
    for (const r of ['gh_pshift', 'g_psh', 'd_psh', 'mW_psh']) expect(declaredWidth(gemm, r)).toBe(5);
    expect(declaredWidth(gemm, 'v_rowstep_f')).toBe(deriveArch(CFG4).dimBits + 4);
    const rq = files.get('nibble_requant')!;
    for (const r of ['rq_k', 'wg_k', 'wg_kx', 'wg_ky', 'w_k', 'p_k']) expect(declaredWidth(rq, r)).toBe(3);
    for (const r of ['rq_s', 'wg_s']) expect(declaredWidth(rq, r)).toBe(2);
    const load = files.get('nibble_load')!;
    expect(declaredWidth(load, 'ld_buf')).toBe(3);
    expect(load).toContain("ld_buf == 3'd2");
    expect(checkDecoders(files, layouts)).toBeGreaterThan(30);
  });

  it.skipIf(!HAVE_VERILATOR)('the widened design lints clean', { timeout: 120_000 }, () => {
    expect(lintClean(files)).toEqual([]);
  });

  it('a field the RTL ties to a named dimension cannot change alone: generation names both', () => {
    expect(() => generate({ layouts: widen(base, 'GEMM', 'in_h', 1) })).toThrow(
      /^internal: GEMM\.in_h has 10 bits, the RTL assumes 9$/,
    );
  });
});
