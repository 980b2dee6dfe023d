/** Races and token warnings on the command line (issue 15, part 1): `nibble asm` names both lines, `nibble sim` shows warnings. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { configHash, DEFAULT_CONFIG } from '../../arch/config.js';
import { assembleProgram } from '../../isa/assembly.js';
import { writeProgramFile } from '../../isa/program-file.js';
import { ensureBuilt, expectUserError, nibble } from './nibble.js';

/** A GEMM reads INP [0, 3] while the second band load overwrites it: nothing orders them. */
const RACY = `; racy: the second LOAD does not wait for the GEMM
LOAD buf=wgt sram_addr=0 dram_addr=0x100 x_count=16 y_count=1 dram_stride=0 replicate=0
LOAD buf=param sram_addr=0 dram_addr=0x200 x_count=1 y_count=1 dram_stride=0 replicate=0
LOAD push_next buf=inp sram_addr=0 dram_addr=0x0 x_count=4 y_count=1 dram_stride=0 replicate=0
GEMM pop_prev wgt_addr=0 inp_addr=0 acc_addr=0 in_h=2 in_w=2 out_h=2 out_w=2 kernel_h=1 kernel_w=1 stride_h=1 stride_w=1 pad_top=0 pad_left=0 ci_blocks=1 accumulate=0 act_signed=0 pshift=0 taps=0 nibble_lanes=0

LOAD buf=inp sram_addr=0 dram_addr=0x40 x_count=4 y_count=1 dram_stride=0 replicate=0
HALT
`;

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-races-'));
});

describe('races and token warnings in the CLI', () => {
  test('nibble asm refuses a race, naming both instructions by line', async () => {
    const src = join(tmp, 'racy.s');
    writeFileSync(src, RACY);
    const r = await nibble(['asm', src, '-o', join(tmp, 'racy.nbl')]);
    expectUserError(
      r,
      /racy\.s:7 \(instruction 4\): LOAD \(load unit\) writes INP \[0, 3\] while .*racy\.s:5 \(instruction 3\), a GEMM \(compute unit\) reading INP \[0, 3\], may still run: no dependency token orders them \(write-after-read race on INP \[0, 3\]\)$/,
      'NB-I004',
    );
  });

  test('nibble sim refuses a racy program file the same way', async () => {
    const cfg = structuredClone(DEFAULT_CONFIG);
    const file = join(tmp, 'racy-api.nbl');
    const segments = [{ name: 'data', dramAddr: 0, bytes: new Uint8Array(1024) }];
    const code = assembleProgram(RACY, cfg);
    const program = {
      config: cfg,
      configHash: configHash(cfg),
      code,
      segments,
      inputs: [],
      outputs: [],
      layers: [],
      meta: {},
    };
    writeFileSync(file, writeProgramFile(program));
    expectUserError(
      await nibble(['sim', file]),
      /instruction 4: LOAD \(load unit\) writes INP \[0, 3\] while instruction 3, a GEMM .*write-after-read race on INP \[0, 3\]\)$/,
      'NB-S008',
    );
  });

  test('nibble sim shows the token checker warnings', async () => {
    const src = join(tmp, 'leftover.s');
    // no race (the second band goes elsewhere), but a NOP pushes a token no one pops
    writeFileSync(
      src,
      RACY.replace('LOAD buf=inp sram_addr=0 dram_addr=0x40', 'LOAD buf=inp sram_addr=8 dram_addr=0x40').replace(
        'HALT',
        'NOP push_next unit=compute\nHALT',
      ),
    );
    const prog = join(tmp, 'leftover.nbl');
    const a = await nibble(['asm', src, '-o', prog]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/warning\[NB-I\d+\]: tokens pushed but never popped: 1 on compute->store/);
    const r = await nibble(['sim', prog]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('token warning: tokens pushed but never popped: 1 on compute->store');
    const j = await nibble(['sim', prog, '--json']);
    expect(JSON.parse(j.stdout).tokenWarnings).toEqual(['tokens pushed but never popped: 1 on compute->store']);
  });
});
