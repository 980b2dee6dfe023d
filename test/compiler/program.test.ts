/** The shape of compiled programs: DRAM descriptors, layer table, listing, program file, buffer reuse. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { assembleProgram } from '../../isa/assembly.js';
import { readProgramFile, writeProgramFile } from '../../isa/program-file.js';
import { tensorImageBytes } from '../../isa/layout.js';
import { analyzeNetwork } from '../../models/index.js';
import { zooNetwork } from '../../models/zoo.js';
import { compileListing, compileNetwork } from '../../compiler/index.js';
import { planDram } from '../../compiler/dram.js';
import { lowerNetwork } from '../../compiler/lower.js';
import { planOp } from '../../compiler/tiling.js';
import { simulate } from '../../sim/index.js';
import { randomInputs } from './harness.js';
import { randomNetwork } from './random-network.js';

describe('compiled program structure', () => {
  const net = zooNetwork('mnist');
  const batch = 2;
  const program = compileNetwork(net, DEFAULT_CONFIG, { batch });

  test('input and output descriptors', () => {
    expect(program.inputs).toHaveLength(1);
    const inp = program.inputs[0]!;
    expect(inp).toMatchObject({
      name: 'input',
      shape: [2, 1, 28, 28],
      layout: 'nibble-lanes', // conv1 reads the 8-bit pixels tap-packed as nibble lanes (tap-packing.test.ts)
      bits: 8,
      signed: false,
    });
    expect(inp.imageStrideBytes).toBeGreaterThanOrEqual(tensorImageBytes(inp, DEFAULT_CONFIG));
    const out = program.outputs[0]!;
    expect(out).toMatchObject({ name: 'output', shape: [2, 10, 1, 1], layout: 'blocked', bits: 4, signed: true });
    const four = compileNetwork(
      { ...randomNetwork(11), input: { ...randomNetwork(11).input, bits: 4 } },
      DEFAULT_CONFIG,
    );
    expect(four.inputs[0]!.layout).toBe('blocked');
  });

  test('one layer per IR layer group with useful MACs x batch and a partition of the code', () => {
    const a = analyzeNetwork(net);
    const groups = a.layers.filter((l) => l.layer.kind === 'conv2d' || l.layer.kind === 'dense');
    expect(program.layers.map((l) => l.name)).toEqual(groups.map((l) => l.layer.name));
    expect(program.layers.map((l) => l.macs)).toEqual(groups.map((l) => l.macs * batch));
    expect(program.layers[0]!.firstInstruction).toBe(0);
    for (let i = 1; i < program.layers.length; i++) {
      expect(program.layers[i]!.firstInstruction).toBe(program.layers[i - 1]!.lastInstruction + 1);
    }
    expect(program.layers.at(-1)!.lastInstruction).toBe(program.code.length - 2);
    expect(program.code.at(-1)!.op).toBe('HALT');
  });

  test('listing has layer headers and tile comments, and assembles back to the same code', () => {
    const text = compileListing(program);
    expect(text).toMatch(/^; layer conv1 \(conv2d\)$/m);
    expect(text).toMatch(/GEMM .*; conv2: image 1, rows \d+\.\.\d+, co block 0/);
    expect(text).toMatch(/LOAD .*; conv1: weights co block 0/);
    expect(assembleProgram(text, DEFAULT_CONFIG)).toEqual(program.code);
  });

  test('program file round trip runs the same', () => {
    const back = readProgramFile(writeProgramFile(program));
    const x = randomInputs(net, batch, 5);
    const a = simulate(program, { engine: 'fast', inputs: { input: x } });
    const b = simulate(back, { engine: 'fast', inputs: { input: x } });
    expect(b.outputs['output']).toEqual(a.outputs['output']);
    expect(b.cycles).toBe(a.cycles);
    expect(compileListing(back)).toMatch(/^; layer fc2 \(dense\)$/m);
  });

  test('live activation buffers never overlap (residual inputs stay alive until the shortcut)', () => {
    const resnet = zooNetwork('resnet', { inputSize: 16 });
    const lowered = lowerNetwork(resnet, DEFAULT_CONFIG);
    const plans = lowered.ops.map((op) => planOp(op, DEFAULT_CONFIG, 2, true));
    planDram(lowered, plans, DEFAULT_CONFIG, 2);
    const ts = lowered.tensors.filter((t) => t.role === 'intermediate');
    const shortcutInputs = lowered.ops.filter((op) => op.terms.length === 2).map((op) => op.terms[1]!.src);
    expect(shortcutInputs.length).toBe(9);
    // a block input is read again by the shortcut, after the main path's ops
    for (const t of shortcutInputs) expect(t.lastUse).toBeGreaterThan(t.producer + 1);
    let reused = 0;
    for (const a of ts) {
      for (const b of ts) {
        if (a === b) continue;
        const bytesA = [a.dramAddr, a.dramAddr + 2 * a.imageStrideBytes];
        const bytesB = [b.dramAddr, b.dramAddr + 2 * b.imageStrideBytes];
        const overlap = bytesA[0]! < bytesB[1]! && bytesB[0]! < bytesA[1]!;
        const live = !(a.lastUse < b.producer || b.lastUse < a.producer);
        if (overlap) reused++;
        expect(overlap && live, `${a.name} and ${b.name}`).toBe(false);
      }
    }
    expect(reused).toBeGreaterThan(0);
  });

  test('DRAM activation buffers are reused between layers', () => {
    const cifar = zooNetwork('cifar10', { inputSize: 32 });
    const p = compileNetwork(cifar, DEFAULT_CONFIG, { batch: 1 });
    const constBytes = p.segments.reduce((s, x) => s + x.bytes.length, 0);
    const a = analyzeNetwork(cifar);
    const allActivations = a.layers.reduce(
      (s, l) => s + (l.layer.kind === 'requant' ? (l.output.shape.c * l.output.shape.h * l.output.shape.w) / 2 : 0),
      0,
    );
    const used = Number(p.meta['dramBytes']) - constBytes;
    expect(used).toBeLessThan(0.8 * allActivations);
  });
});
