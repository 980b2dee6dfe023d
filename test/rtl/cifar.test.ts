/**
 * One CIFAR10NET_INT image (the zoo's synthetic-weight network, full 32 x 32
 * input, every layer) compiled for a small 8 x 8 machine and co-simulated:
 * RTL == simulator on every DRAM byte and every instruction's cycles.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, validateConfig } from '../../arch/config.js';
import { compileNetwork } from '../../compiler/index.js';
import { zooNetwork } from '../../models/index.js';
import { RTL_RANDOM, verifyProgram } from '../../cosim/index.js';
import { haveTools } from './tools-required.js';

const HAVE_VERILATOR = haveTools('test/rtl/cifar.test.ts', ['verilator']);

/** 8 x 8, small buffers, 8 MB DRAM (the network's 4-bit weights take about 2.4 MB). */
const CFG_CIFAR = validateConfig({
  ...structuredClone(DEFAULT_CONFIG),
  array: { rows: 8, cols: 8 },
  scratchpad: { inputEntries: 2048, weightEntries: 2048, accEntries: 512, outputEntries: 1024, paramEntries: 64 },
  dram: { busBytes: 8, latency: 10, sizeBytes: 1 << 23 },
  queues: { load: 4, compute: 4, store: 4 },
  requantStages: 3,
});

describe.skipIf(!HAVE_VERILATOR)('CIFAR10NET_INT on the RTL', () => {
  it('one 32x32 image on an 8x8 machine: RTL == simulator, bits and cycles', () => {
    // tap packing only once the generated RTL runs it (RTL_RANDOM, rtl-gen/pending.ts)
    const program = compileNetwork(zooNetwork('cifar10'), CFG_CIFAR, { tapPacking: RTL_RANDOM.program.tapPacking });
    const r = verifyProgram(program);
    console.log(
      `CIFAR10NET_INT 32x32 on 8x8: ${r.rtlCycles} cycles, ${r.instructions} instructions, build ${r.buildMs} ms, RTL run ${r.runMs} ms`,
    );
    if (!r.ok) throw new Error(`RTL != simulator: ${r.mismatch}`);
    expect(r.rtlCycles).toBe(r.simCycles);
    expect(r.perf['macs']).toBeGreaterThan(0);
  }, 600_000);
});
