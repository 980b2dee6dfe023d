/**
 * The authors' 4-bit MNIST model, compiled for the default machine, on the
 * generated RTL: 20 test images, RTL == simulator on every DRAM byte and
 * every instruction's cycles.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { compileNetwork } from '../../compiler/index.js';
import { loadIntegerNetFile } from '../../models/integernet.js';
import { loadMnist } from '../../models/mnist.js';
import { RTL_RANDOM, verifyProgram } from '../../cosim/index.js';
import { haveTools } from './tools-required.js';
import { AUTHORS_MODEL } from '../reference-data.js';

const MODEL = AUTHORS_MODEL;
const HAVE_VERILATOR = haveTools('test/rtl/mnist.test.ts', ['verilator']);
const HAVE_MODEL = existsSync(MODEL);
if (!HAVE_MODEL) console.warn(`SKIPPED test/rtl/mnist.test.ts: the authors' model is missing (${MODEL})`);

describe.skipIf(!HAVE_VERILATOR || !HAVE_MODEL)("the authors' MNIST model on the RTL", () => {
  it('20 test images: RTL == simulator, bits and cycles', () => {
    const count = 20;
    const net = loadIntegerNetFile(MODEL);
    const data = loadMnist({ set: 'test' });
    // tap packing only once the generated RTL runs it (RTL_RANDOM, rtl-gen/pending.ts)
    const program = compileNetwork(net, DEFAULT_CONFIG, { batch: count, tapPacking: RTL_RANDOM.program.tapPacking });
    const r = verifyProgram(program, { inputs: { input: data.images.subarray(0, count * 784) } });
    console.log(
      `MNIST x${count} on the default machine: ${r.rtlCycles} cycles, ${r.instructions} instructions, RTL run ${r.runMs} ms`,
    );
    if (!r.ok) throw new Error(`RTL != simulator: ${r.mismatch}`);
    expect(r.rtlCycles).toBe(r.simCycles);
    expect(r.perf['macs']).toBeGreaterThan(0);
  }, 600_000); // the 16 x 16 Verilator build alone takes minutes on a busy 2-core machine
});
