import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CHART_IDS } from '../../cli/report/html.js';
import { requireChromium } from './chromium.js';
import { checkReportPage } from './report-check.js';
import { ensureBuilt, expectUserError, nibble, REPO } from './nibble.js';

const KERNEL = `; one 3x3 convolution tile with fused requant and pooling
LOAD buf=wgt sram_addr=0 dram_addr=0x1000 x_count=144 y_count=1 dram_stride=0 replicate=0
LOAD buf=param sram_addr=0 dram_addr=0x8000 x_count=1 y_count=1 dram_stride=0 replicate=0
LOAD push_next buf=inp sram_addr=0 dram_addr=0x20000 x_count=10 y_count=10 dram_stride=80 replicate=0
GEMM pop_prev wgt_addr=0 inp_addr=0 acc_addr=0 in_h=10 in_w=10 out_h=8 out_w=8 kernel_h=3 kernel_w=3 stride_h=1 stride_w=1 pad_top=0 pad_left=0 ci_blocks=1 accumulate=0 act_signed=0 pshift=0 taps=0 nibble_lanes=0
REQUANT push_next acc_addr=0 out_addr=0 param_addr=0 in_h=8 in_w=8 out_h=4 out_w=4 pool_k=2 pool_s=2 out_signed=0 clamp_bits=4 gemm_beside=0
STORE pop_prev sram_addr=0 dram_addr=0x30000 x_count=16 y_count=1 dram_stride=0
HALT
`;

const chromium = requireChromium('test/cli/asm.test.ts');
let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-asm-'));
});

describe('asm / disasm', () => {
  test('assemble, disassemble, re-assemble: identical program bytes', async () => {
    const src = join(tmp, 'k.s');
    writeFileSync(src, KERNEL);
    const p1 = join(tmp, 'k.nbl');
    const r = await nibble(['asm', src, '-o', p1, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.instructions).toBe(7);
    const d = await nibble(['disasm', p1]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('GEMM pop_prev');
    const src2 = join(tmp, 'k2.s');
    writeFileSync(src2, d.stdout);
    const p2 = join(tmp, 'k2.nbl');
    expect((await nibble(['asm', src2, '-o', p2])).code).toBe(0);
    // meta.source differs, so compare the code via disassembly
    expect((await nibble(['disasm', p2])).stdout).toBe(d.stdout);
    const j = JSON.parse((await nibble(['disasm', p1, '--json'])).stdout);
    expect(j.instructions).toBe(7);
    expect(j.text).toBe(d.stdout.trimEnd() + (j.text.endsWith('\n') ? '\n' : ''));
  });

  test(
    'sim of the kernel: --trace (Chrome JSON), --vcd (cycle engine), --energy table override',
    { timeout: 120_000 },
    async () => {
      const src = join(tmp, 'kt.s');
      writeFileSync(src, KERNEL);
      const prog = join(tmp, 'kt.nbl');
      expect((await nibble(['asm', src, '-o', prog])).code).toBe(0);
      const trace = join(tmp, 'kt.trace.json');
      const vcd = join(tmp, 'kt.vcd');
      const r = await nibble(['sim', prog, '--trace', trace, '--vcd', vcd, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.engine).toBe('cycle');
      expect(r.stderr).toMatch(/--vcd needs the cycle engine/);
      expect(JSON.parse(readFileSync(trace, 'utf8')).traceEvents.length).toBeGreaterThan(0);
      expect(readFileSync(vcd, 'utf8')).toMatch(/\$enddefinitions/);
      const fast = JSON.parse((await nibble(['sim', prog, '--json'])).stdout);
      expect(fast.cycles).toBe(doc.cycles);
      expect(fast.energy.totalPj).toBeGreaterThan(0);
      // an energy table with free MACs changes the energy and nothing else
      const table = JSON.parse(readFileSync(join(REPO, 'sim/energy-table.json'), 'utf8'));
      table.actions['mac.int4'].pJ = 0;
      const tfile = join(tmp, 'table.json');
      writeFileSync(tfile, JSON.stringify(table));
      const e = JSON.parse((await nibble(['sim', prog, '--energy', tfile, '--json'])).stdout);
      expect(e.cycles).toBe(fast.cycles);
      expect(e.energy.byComponent.mac).toBe(0);
      expect(e.energy.totalPj).toBeLessThan(fast.energy.totalPj);
      table.actions['mac.int4'].pJ = -1;
      writeFileSync(tfile, JSON.stringify(table));
      expectUserError(await nibble(['sim', prog, '--energy', tfile]), /mac\.int4/);
    },
  );

  test(
    'report of a hand-written program (no layers, no tensors) still renders every chart',
    { timeout: 90_000 },
    async (ctx) => {
      const src = join(tmp, 'kr.s');
      writeFileSync(src, KERNEL);
      const prog = join(tmp, 'kr.nbl');
      expect((await nibble(['asm', src, '-o', prog])).code).toBe(0);
      const html = join(tmp, 'kr.html');
      const r = await nibble(['report', prog, '-o', html]);
      expect(r.code, r.stderr).toBe(0);
      if (!chromium) return ctx.skip();
      // no layer table: one row for the whole program, so no chart is an empty axis
      expect(await checkReportPage(chromium, html, { charts: CHART_IDS, layers: 1 })).toEqual([]);
    },
  );

  test('assembly errors name file:line:col', async () => {
    const src = join(tmp, 'bad.s');
    writeFileSync(src, 'HALT\nGEMX foo=1\n');
    expectUserError(await nibble(['asm', src, '-o', join(tmp, 'bad.nbl')]), /bad\.s:2:1/);
  });

  test('a deadlocking program is rejected by the token checker', async () => {
    const src = join(tmp, 'dead.s');
    // comments and blank lines do not count: the error names the source line of the stuck instruction
    writeFileSync(src, '; header\n\nNOP pop_prev unit=compute\nHALT\n');
    expectUserError(
      await nibble(['asm', src, '-o', join(tmp, 'dead.nbl')]),
      /dead\.s:3 \(instruction 0\): token deadlock/,
    );
  });

  test('gemmBeside off: the disassembly round-trips; the same text from before gemmBeside (no such key) assembles as it', async () => {
    const cfg = join(tmp, 'no-beside.json');
    writeFileSync(cfg, JSON.stringify({ gemmBeside: false }));
    const src = join(tmp, 'nb.s');
    writeFileSync(src, KERNEL);
    const p1 = join(tmp, 'nb.nbl');
    expect((await nibble(['asm', src, '--config', cfg, '-o', p1])).code).toBe(0);
    const d = await nibble(['disasm', p1]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(',"gemmBeside":false}');
    const again = join(tmp, 'nb2.s');
    writeFileSync(again, d.stdout);
    const p2 = join(tmp, 'nb2.nbl');
    expect((await nibble(['asm', again, '-o', p2])).code).toBe(0);
    expect((await nibble(['disasm', p2])).stdout).toBe(d.stdout);
    const old = join(tmp, 'nb-old.s');
    writeFileSync(old, d.stdout.replace(',"gemmBeside":false}', '}'));
    const p3 = join(tmp, 'nb-old.nbl');
    const r = await nibble(['asm', old, '-o', p3]);
    expect(r.code, r.stderr).toBe(0);
    expect((await nibble(['disasm', p3])).stdout).toBe(d.stdout);
  });

  test("a program for another config is assembled with that config's field widths", async () => {
    const cfg = join(tmp, 'small.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        array: { rows: 4, cols: 4 },
        scratchpad: { inputEntries: 64, weightEntries: 64, accEntries: 64, outputEntries: 64, paramEntries: 4 },
      }),
    );
    const src = join(tmp, 'wide.s');
    writeFileSync(src, 'LOAD buf=inp sram_addr=100 dram_addr=0 x_count=1 y_count=1 dram_stride=0 replicate=0\nHALT\n');
    expectUserError(await nibble(['asm', src, '--config', cfg, '-o', join(tmp, 'w.nbl')]), /sram_addr/);
    expect((await nibble(['asm', src, '-o', join(tmp, 'w.nbl')])).code).toBe(0);
    expect(readFileSync(join(tmp, 'w.nbl')).subarray(0, 4).toString()).toBe('NBL1');
  });
});

describe('whole programs in assembly (issue 15, part 3)', () => {
  test(
    'disasm then asm reproduces a compiled program byte for byte: data as hex, and as files',
    { timeout: 120_000 },
    async () => {
      const model = join(tmp, 'cifar.json');
      expect((await nibble(['zoo', 'export', 'cifar10', '-o', model])).code).toBe(0);
      const prog = join(tmp, 'cifar.nbl');
      expect((await nibble(['compile', model, '--batch', '2', '-o', prog])).code).toBe(0);
      for (const data of ['hex', 'files']) {
        const text = join(tmp, `cifar-${data}.s`);
        const d = await nibble(['disasm', prog, '-o', text, '--data', data]);
        expect(d.code, d.stderr).toBe(0);
        const back = join(tmp, `cifar-${data}.nbl`);
        const a = await nibble(['asm', text, '-o', back]);
        expect(a.code, a.stderr).toBe(0);
        expect(readFileSync(back).equals(readFileSync(prog))).toBe(true);
      }
      expect(readFileSync(join(tmp, 'cifar-files.s'), 'utf8')).toMatch(
        /^\.segment name=conv1\.weights dram=0x0 size=\d+ file=cifar-files\.s\.data\/0-conv1\.weights\.bin$/m,
      );
      // the text runs directly too, and its figures are the program's
      const s = JSON.parse((await nibble(['sim', join(tmp, 'cifar-hex.s'), '--engine', 'timing', '--json'])).stdout);
      const n = JSON.parse((await nibble(['sim', prog, '--engine', 'timing', '--json'])).stdout);
      expect(s.cycles).toBe(n.cycles);
      expect(s.layers).toEqual(n.layers);
    },
  );

  test('--data files needs -o; a missing data file is named', async () => {
    const src = join(tmp, 'k.s');
    writeFileSync(src, KERNEL);
    const prog = join(tmp, 'kd.nbl');
    expect((await nibble(['asm', src, '-o', prog])).code).toBe(0);
    expectUserError(
      await nibble(['disasm', prog, '--data', 'files']),
      /--data files writes the segments next to the text: give -o FILE\.s/,
    );
    const lost = join(tmp, 'lost.s');
    writeFileSync(lost, `.segment name=w dram=0x1000 size=16 file=nowhere/w.bin\n${KERNEL}`);
    expectUserError(
      await nibble(['asm', lost, '-o', join(tmp, 'lost.nbl')]),
      /lost\.s:1:42: .*nowhere\/w\.bin: segment data file not found \(the directory .*nowhere does not exist\)$/,
    );
  });

  test('a bare program says which figures fall back: no useful MACs, energy per issued MAC', async () => {
    const src = join(tmp, 'kb.s');
    writeFileSync(src, KERNEL);
    const prog = join(tmp, 'kb.nbl');
    expect((await nibble(['asm', src, '-o', prog])).code).toBe(0);
    const r = await nibble(['sim', prog]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/array utilization\s+n\/a: the program has no layer table, so no useful MACs \(issue/);
    expect(r.stdout).toMatch(/TOPS\/W per issued MAC: no layer table/);
    expect(JSON.parse((await nibble(['sim', prog, '--json'])).stdout).energy.macBasis).toBe('issued');
  });
});
