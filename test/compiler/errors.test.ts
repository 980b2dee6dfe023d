/** Bad networks and machines too small get a CompileError naming the layer, the limit and the field to change. */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, type ArchConfig } from '../../arch/config.js';
import { CompileError, ModelError, NibbleError } from '../../arch/errors.js';
import type { Layer, Network } from '../../models/ir.js';
import { squareConv2d, type Conv2dLayer, type RequantLayer } from '../../models/index.js';
import { compileNetwork } from '../../compiler/index.js';

function conv(name: string, ci: number, co: number, k: number, stride = 1, pad = 0, value = 1): Conv2dLayer {
  return squareConv2d(name, ci, co, k, stride, pad, new Int8Array(co * ci * k * k).fill(value));
}
function requant(name: string, c: number, bits = 4, signed = false): RequantLayer {
  return { kind: 'requant', name, signed, bits, bias: new Int32Array(c), shift: new Int8Array(c).fill(4) };
}
function net(layers: Layer[], input: Partial<Network['input']> = {}, extra: Partial<Network> = {}): Network {
  return {
    name: 't',
    input: { channels: 4, height: 8, width: 8, bits: 4, signed: false, ...input },
    layers,
    weightBits: 4,
    accumulatorBits: 32,
    ...extra,
  };
}
function cfgWith(patch: (c: ArchConfig) => void): ArchConfig {
  const c = structuredClone(DEFAULT_CONFIG);
  patch(c);
  return c;
}
function compileError(n: Network, cfg: ArchConfig = DEFAULT_CONFIG, batch = 1): CompileError {
  try {
    compileNetwork(n, cfg, { batch });
  } catch (e) {
    expect(e).toBeInstanceOf(CompileError);
    return e as CompileError;
  }
  throw new Error('expected a CompileError');
}

describe('CompileError', () => {
  test('weights wider than bits.weight', () => {
    const n = net([conv('c1', 4, 4, 3, 1, 1, 100), requant('r1', 4)], {}, { weightBits: 8 });
    expect(compileError(n).message).toMatch(/weightBits.*bits\.weight is 4: raise bits\.weight to 8/);
  });
  test('requant output wider than bits.activation', () => {
    const e = compileError(net([conv('c1', 4, 4, 3), requant('r1', 4, 8)]));
    expect(e.message).toMatch(/layer 1 'r1'.*8 bits wide but bits\.activation is 4: raise bits\.activation/);
  });
  test('kernel, stride and padding beyond the GEMM fields', () => {
    const big = net([conv('c1', 1, 4, 17), requant('r1', 4)], { channels: 1, height: 20, width: 20 });
    expect(compileError(big).message).toMatch(
      /layer 0 'c1': kernel height 17 exceeds the GEMM 4-bit kernel_h field \(at most 15\)/,
    );
    const stride = net([conv('c1', 4, 4, 1, 8), requant('r1', 4)], { height: 20, width: 20 });
    expect(compileError(stride).message).toMatch(/layer 0 'c1': stride 8 exceeds the GEMM 3-bit stride_h field/);
    const pad = net([conv('c1', 4, 4, 9, 1, 8), requant('r1', 4)]);
    expect(compileError(pad).message).toMatch(/layer 0 'c1': padding 8 exceeds the GEMM 3-bit pad_top field/);
  });
  test('pool window beyond the REQUANT fields', () => {
    const n = net([conv('c1', 4, 4, 1), requant('r1', 4), { kind: 'maxpool', name: 'p1', kernel: 4, stride: 4 }]);
    expect(compileError(n).message).toMatch(/layer 2 'p1': max pool 4x4 stride 4 exceeds the 2-bit REQUANT pool_k/);
    expect(compileError(n).code).toBe('NB-C003');
  });
  test('network ending with accumulators', () => {
    const e = compileError(net([conv('c1', 4, 4, 3), requant('r1', 4), conv('c2', 4, 4, 1)]));
    expect(e.message).toMatch(/layer 2 'c2'.*network must end with activations/);
  });
  test('a row that does not fit INP names scratchpad.inputEntries', () => {
    const n = net([conv('c1', 4, 8, 3, 1, 1), requant('r1', 8)], { height: 8, width: 200 });
    const e = compileError(
      n,
      cfgWith((c) => (c.scratchpad.inputEntries = 256)),
    );
    expect(e.message).toMatch(
      /layer 0 'c1': one output row needs 600 INP entries with halo .* scratchpad\.inputEntries is 256: raise scratchpad\.inputEntries/,
    );
    expect(e.code).toBe('NB-C002');
  });
  test('a row that does not fit ACC or OUT names the field', () => {
    const n = net([conv('c1', 4, 8, 1), requant('r1', 8)], { height: 4, width: 100 });
    expect(
      compileError(
        n,
        cfgWith((c) => (c.scratchpad.accEntries = 64)),
      ).message,
    ).toMatch(/one output row needs 100 ACC entries .* raise scratchpad\.accEntries/);
    expect(
      compileError(
        n,
        cfgWith((c) => (c.scratchpad.outputEntries = 64)),
      ).message,
    ).toMatch(/one output row needs 100 OUT entries .* raise scratchpad\.outputEntries/);
  });
  test('a kernel row that does not fit WGT names scratchpad.weightEntries', () => {
    const n = net([conv('c1', 4, 4, 7), requant('r1', 4)], { height: 9, width: 9 });
    const e = compileError(
      n,
      cfgWith((c) => (c.scratchpad.weightEntries = 64)),
    );
    expect(e.message).toMatch(
      /layer 0 'c1'.*one 7-wide kernel row needs 112 WGT entries .* raise scratchpad\.weightEntries/,
    );
  });
  test('DRAM too small names dram.sizeBytes', () => {
    const n = net([conv('c1', 4, 64, 3, 1, 1), requant('r1', 64)], { height: 64, width: 64 });
    const e = compileError(
      n,
      cfgWith((c) => (c.dram.sizeBytes = 1 << 16)),
      8,
    );
    expect(e.message).toMatch(/needs \d+ bytes of DRAM .* dram\.sizeBytes is 65536: raise dram\.sizeBytes/);
  });
  test('accumulator narrower than the network allows', () => {
    const layers = [conv('c1', 64, 4, 3, 1, 1, 7), requant('r1', 4)];
    const n = net(layers, { channels: 64 });
    const e = compileError(
      n,
      cfgWith((c) => (c.bits.accumulator = 16)),
    );
    expect(e.message).toBe(
      "layer 0 'c1': accumulator values may reach [0, 60480] (17 bits) but bits.accumulator is 16: raise bits.accumulator to 17",
    );
    // A network that promises 16-bit sums its layers can exceed: neither side may be the one to report an overflow.
    expect(
      compileError(
        { ...n, accumulatorBits: 16 },
        cfgWith((c) => (c.bits.accumulator = 16)),
      ).message,
    ).toBe(
      "layer 0 'c1': accumulator values may reach [0, 60480] (17 bits) but bits.accumulator is 16 and the network allows 16-bit sums (accumulatorBits): raise both to 17",
    );
    expect(compileError({ ...n, accumulatorBits: 16 }).message).toBe(
      "layer 0 'c1': accumulator values may reach [0, 60480] (17 bits) but the network allows only 16-bit sums (accumulatorBits): the reference reports an overflow where the machine's 32-bit accumulators would not, so raise the network's accumulatorBits to 17",
    );
    // Sums that always fit both compile.
    expect(() =>
      compileNetwork(
        { ...n, accumulatorBits: 17 },
        cfgWith((c) => (c.bits.accumulator = 17)),
      ),
    ).not.toThrow();
  });
  test('flatten between a conv and its requant', () => {
    const n = net([conv('c1', 4, 4, 3), { kind: 'flatten', name: 'f' }, requant('r1', 144)]);
    expect(compileError(n).message).toMatch(/layer 1 'f': flatten of accumulators/);
  });
  test('bad batch', () => {
    const n = net([conv('c1', 4, 4, 3), requant('r1', 4)]);
    expect(compileError(n, DEFAULT_CONFIG, 0).message).toMatch(/batch must be an integer/);
  });
  test('a malformed network is a ModelError, a bad config a ConfigError: never a crash', () => {
    const bad = net([conv('c1', 5, 4, 3), requant('r1', 4)]);
    expect(() => compileNetwork(bad, DEFAULT_CONFIG)).toThrow(ModelError);
    const n = net([conv('c1', 4, 4, 3), requant('r1', 4)]);
    expect(() =>
      compileNetwork(
        n,
        cfgWith((c) => (c.array.rows = 3)),
      ),
    ).toThrow(NibbleError);
  });
});
