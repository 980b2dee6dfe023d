/**
 * The WebAssembly SIMD GEMM kernel against the fast engine's JavaScript GEMM
 * (the differential oracle): bit-identical ACC contents on every GEMM of
 * random programs and on random GEMM shapes for every array size 2..64,
 * signed and unsigned activations of 2..8 bits, padding, strides, pshift,
 * accumulate, zero activations and all-zero weight rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../arch/index.js';
import type { GemmInst } from '../../isa/index.js';
import { randomConfig, randomProgram } from '../../sim/index.js';
import { FunctionalUnit } from '../../sim/execute.js';
import { kernelTakes, newGemmKernel, type GemmCore, type GemmKernel } from '../../sim/kernels/gemm-kernel.js';
import { ResidentUnits } from '../../sim/kernels/units.js';
import { loadEntries, mulberry32, newScratchpads, type Scratchpads } from '../../sim/memory.js';
import { tappedPaths } from '../../sim/tap-gemm.js';
import type { LoadInst } from '../../isa/index.js';
import { prepareProgram, type PreparedProgram } from '../../sim/prepare.js';
import { ins, makeProgram } from './helpers.js';

let kernel: GemmKernel | undefined;

beforeAll(() => {
  // the kernel the tests load is dist/'s: assemble it again when gemm.wat is newer (vitest run without npm run build)
  const root = packageRoot();
  const wat = join(root, 'sim', 'kernels', 'gemm.wat');
  const wasm = join(root, 'dist', 'sim', 'kernels', 'gemm.wasm');
  if (!existsSync(wasm) || statSync(wasm).mtimeMs < statSync(wat).mtimeMs) {
    const r = spawnSync(process.execPath, [join(root, 'sim', 'kernels', 'build-wasm.mjs')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  kernel = newGemmKernel();
});

function fillRandom(p: PreparedProgram, sp: Scratchpads, seed: number): void {
  const a = p.arch;
  const rnd = mulberry32(seed);
  const zeroBias = rnd() * 0.6;
  for (let j = 0; j < sp.inp.length; j++) sp.inp[j] = rnd() < zeroBias ? 0 : Math.floor(rnd() * 2 ** a.activationBits);
  for (let j = 0; j < sp.wgt.length; j += a.cols) {
    const zeroRow = rnd() < 0.3;
    for (let c = 0; c < a.cols; c++)
      sp.wgt[j + c] = zeroRow ? 0 : Math.floor(rnd() * 2 ** a.weightBits) - 2 ** (a.weightBits - 1);
  }
  for (let j = 0; j < sp.acc.length; j++) sp.acc[j] = Math.floor((rnd() - 0.5) * 2000);
}

/** The kernel as a GEMM core that takes every GEMM, whatever its size (kernelTakes leaves small ones to JavaScript). */
function everyGemm(): GemmCore {
  return { before() {}, finish() {}, gemm: (g, sp, a) => kernel!.run(g, sp, a) };
}

/** Run g through the JS unchecked path and through the kernel from the same ACC; false when JS took the checked path. */
function compareOne(p: PreparedProgram, sp: Scratchpads, g: GemmInst, what: string): boolean {
  const fu = new FunctionalUnit(p, sp, new Uint8Array(0), everyGemm());
  const before = sp.acc.slice();
  // a tap-packed GEMM's JavaScript oracle is its own unchecked path (sim/tap-gemm.ts); the kernel gathers it
  const js0 = new FunctionalUnit(p, sp, new Uint8Array(0));
  if (
    !(g.taps
      ? tappedPaths.unchecked(js0, g)
      : (js0 as unknown as { gemmUnchecked(g: GemmInst): boolean }).gemmUnchecked(g))
  )
    return false;
  const js = sp.acc.slice();
  sp.acc.set(before);
  if (g.taps) expect(tappedPaths.kernel(fu, g), what).toBe(true);
  else expect(kernel!.run(g, sp, p.arch), what).toBe(true);
  const wasm = sp.acc;
  if (Buffer.compare(Buffer.from(js.buffer), Buffer.from(wasm.buffer)) !== 0) {
    const k = js.findIndex((v, j) => v !== wasm[j]);
    expect.fail(`${what}: ACC word ${k} is ${wasm[k]} from the kernel, ${js[k]} from JavaScript`);
  }
  return true;
}

describe('WebAssembly GEMM kernel == JavaScript GEMM', () => {
  it('takes tap-packed GEMMs too, and leaves rectangular arrays to the JavaScript kernels', () => {
    const big = ins('GEMM', { in_h: 16, in_w: 16, out_h: 16, out_w: 16, kernel_h: 3, kernel_w: 3, ci_blocks: 4 });
    const g = big as GemmInst;
    expect(kernelTakes(g, { rows: 16, cols: 16 })).toBe(true);
    expect(kernelTakes({ ...g, taps: 1, ci_blocks: 2 }, { rows: 16, cols: 16 })).toBe(true);
    expect(kernelTakes(g, { rows: 32, cols: 16 })).toBe(false);
  });

  it('on every tap-packed GEMM of 120 random programs (nibble lanes, every array size)', () => {
    let compared = 0;
    for (let seed = 7400; seed < 7520; seed++) {
      const cfg = randomConfig(seed, { rectangular: false });
      const p = prepareProgram(randomProgram(seed, cfg));
      const sp = newScratchpads(p);
      fillRandom(p, sp, seed);
      for (let i = 0; i < p.count; i++) {
        const g = p.code[i]!;
        if (g.op === 'GEMM' && g.taps && compareOne(p, sp, g, `seed ${seed} instruction ${i}`)) compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('replicates a tap-packing LOAD as the JavaScript loop does (16 and 32 lanes, tap groups 1 to 16)', () => {
    for (const [n, g] of [
      [16, 1],
      [16, 2],
      [16, 3],
      [16, 8],
      [32, 5],
      [32, 16],
    ] as const) {
      const config = { array: { rows: n, cols: n } };
      const p = prepareProgram(makeProgram([ins('HALT')], { config }));
      const m = kernel!.resident(p)!;
      const units = new ResidentUnits(kernel!, m, p.arch);
      const rnd = mulberry32(n * 100 + g);
      for (let j = 0; j < 4096; j++) m.dram[j] = Math.floor(rnd() * 256);
      const ld = ins('LOAD', {
        buf: 0,
        sram_addr: 3,
        dram_addr: 64,
        x_count: 5,
        y_count: 3,
        dram_stride: (5 * n) / 2 + 8,
        replicate: g,
      }) as LoadInst;
      expect(units.load(ld), `n ${n} g ${g}`).toBe(true);
      const js = newScratchpads(p);
      for (let y = 0; y < 3; y++) loadEntries(js, p.arch, 0, m.dram, 64 + y * ld.dram_stride, 3 + 5 * y, 5, g);
      expect(Array.from(m.sp.inp.subarray(0, 20 * n)), `n ${n} g ${g}`).toEqual(Array.from(js.inp.subarray(0, 20 * n)));
    }
  });

  it('is built and loads (npm run build assembles sim/kernels/gemm.wat)', () => {
    expect(kernel).toBeDefined();
  });

  it('on every GEMM of 150 random programs', () => {
    let compared = 0;
    for (let seed = 7000; seed < 7150; seed++) {
      // square arrays' ordinary GEMMs here (rectangular ones stay in JavaScript); tap-packed ones in the next test
      const cfg = randomConfig(seed, { rectangular: false });
      const p = prepareProgram(randomProgram(seed, cfg, { tapPacking: false }));
      const sp = newScratchpads(p);
      fillRandom(p, sp, seed);
      for (let i = 0; i < p.count; i++) {
        const g = p.code[i]!;
        if (g.op === 'GEMM' && compareOne(p, sp, g, `seed ${seed} instruction ${i}`)) compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('on random GEMM shapes for arrays of 2 to 64 lanes', () => {
    const arb = fc.record({
      n: fc.constantFrom(2, 4, 8, 16, 32, 64),
      bits: fc.integer({ min: 2, max: 8 }),
      actSigned: fc.integer({ min: 0, max: 1 }),
      kernel: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 2 }),
      pad: fc.integer({ min: 0, max: 1 }),
      outH: fc.integer({ min: 1, max: 4 }),
      outW: fc.integer({ min: 1, max: 5 }),
      ciBlocks: fc.integer({ min: 1, max: 3 }),
      accumulate: fc.integer({ min: 0, max: 1 }),
      pshift: fc.integer({ min: 0, max: 4 }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
    });
    fc.assert(
      fc.property(arb, (s) => {
        const inH = Math.max(1, (s.outH - 1) * s.stride + s.kernel - 2 * s.pad);
        const inW = Math.max(1, (s.outW - 1) * s.stride + s.kernel - 2 * s.pad);
        const passes = s.ciBlocks * s.kernel * s.kernel;
        // lanes x bits must fill whole bytes (a config rule): 4 bits always do
        const bits = (s.n * s.bits) % 8 === 0 ? s.bits : 4;
        const config = {
          array: { rows: s.n, cols: s.n },
          bits: { weight: bits, activation: bits, accumulator: 32 },
          scratchpad: {
            inputEntries: 2 ** Math.ceil(Math.log2(s.ciBlocks * inH * inW + 1)),
            weightEntries: 2 ** Math.ceil(Math.log2(passes * s.n + 1)),
            accEntries: 64,
          },
        };
        const g = ins('GEMM', {
          wgt_addr: 0,
          inp_addr: 0,
          acc_addr: 1,
          in_h: inH,
          in_w: inW,
          out_h: s.outH,
          out_w: s.outW,
          kernel_h: s.kernel,
          kernel_w: s.kernel,
          stride_h: s.stride,
          stride_w: s.stride,
          pad_top: s.pad,
          pad_left: s.pad,
          ci_blocks: s.ciBlocks,
          accumulate: s.accumulate,
          act_signed: s.actSigned,
          pshift: s.pshift,
        }) as GemmInst;
        const p = prepareProgram(makeProgram([g, ins('HALT')], { config }));
        const sp = newScratchpads(p);
        fillRandom(p, sp, s.seed);
        expect(compareOne(p, sp, g, JSON.stringify(s))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("scans an accumulating GEMM's ACC region for its largest |value| as JavaScript does (the no-overflow bound)", () => {
    const p = prepareProgram(makeProgram([ins('HALT')]));
    const m = kernel!.resident(p)!;
    const units = new ResidentUnits(kernel!, m, p.arch);
    const acc = m.sp.acc;
    const rnd = mulberry32(5);
    for (let j = 0; j < acc.length; j++) acc[j] = Math.floor((rnd() - 0.5) * 2 ** 20);
    acc[37] = -(2 ** 31); // |-2^31| = 2^31 does not fit an i32: the scan answers unsigned
    acc[900] = 2 ** 31 - 1;
    const js = (from: number, len: number) => Math.max(0, ...Array.from(acc.subarray(from, from + len), Math.abs));
    for (const [from, len] of [
      [0, 16],
      [16, 4096],
      [32, 16],
      [896, 16],
      [1000, 64],
      [0, 0],
    ] as const)
      expect(units.accAbsMax(from, len), `[${from}, +${len})`).toBe(js(from, len));
    expect(units.accAbsMax(0, 6)).toBeUndefined(); // not whole vectors: the caller's JavaScript loop
  });
});
