import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, configHash, type ArchConfig } from '../../arch/config.js';
import { IsaError } from '../../arch/errors.js';
import { assembleProgram, readProgramFile, writeProgramFile, type Program } from '../../isa/index.js';
import { arbProgram } from './arbitraries.js';
import { thrownDiagnostic } from '../thrown.js';

function sample(): Program {
  const cfg = structuredClone(DEFAULT_CONFIG);
  return {
    config: cfg,
    configHash: configHash(cfg),
    code: assembleProgram(
      'LOAD push_next buf=inp sram_addr=0 dram_addr=0x1000 x_count=4 y_count=1 dram_stride=0 replicate=0\nNOP unit=compute pop_prev\nHALT',
      cfg,
    ),
    segments: [
      { name: 'weights', dramAddr: 0x100000, bytes: new Uint8Array([1, 2, 3, 4, 5]) },
      { name: 'params', dramAddr: 0x200000, bytes: new Uint8Array(64).fill(7) },
    ],
    inputs: [
      {
        name: 'x',
        dramAddr: 0x1000,
        shape: [1, 1, 2, 2],
        layout: 'blocked',
        bits: 4,
        signed: false,
        imageStrideBytes: 32,
      },
    ],
    outputs: [
      {
        name: 'y',
        dramAddr: 0x3000,
        shape: [2, 10, 1, 1],
        layout: 'blocked',
        bits: 4,
        signed: true,
        imageStrideBytes: 8,
      },
    ],
    layers: [{ name: 'conv1', kind: 'conv2d', macs: 100, firstInstruction: 0, lastInstruction: 2 }],
    meta: { model: 'test', batch: 2 },
  };
}

function readError(bytes: Uint8Array, config?: ArchConfig): string {
  try {
    readProgramFile(bytes, { file: 'p.nbl', ...(config ? { config } : {}) });
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    return (e as Error).message;
  }
  throw new Error('read without error');
}

/** Rewrite the JSON header (then fix the sizes and CRC) so the semantic checks behind the CRC are reached. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests corrupt arbitrary header fields
function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  return withHeaderText(bytes, (text) => {
    const header = JSON.parse(text);
    edit(header);
    return JSON.stringify(header);
  });
}

/** Rewrite the header text itself (for what JSON.parse cannot express, such as duplicate keys). */
function withHeaderText(bytes: Uint8Array, edit: (text: string) => string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(8, true);
  const json = Buffer.from(edit(Buffer.from(bytes.subarray(16, 16 + hlen)).toString('utf8')));
  const payload = bytes.subarray(16 + hlen, bytes.length - 4);
  const out = new Uint8Array(16 + json.length + payload.length + 4);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 16);
  out.set(payload, 16 + json.length);
  return resealed(out);
}

function resealed(out: Uint8Array): Uint8Array {
  new DataView(out.buffer, out.byteOffset).setUint32(
    out.length - 4,
    crc32(out.subarray(0, out.length - 4)) >>> 0,
    true,
  );
  return out;
}

describe('.nbl program file', () => {
  it('round trips random programs exactly', () => {
    fc.assert(
      fc.property(arbProgram, (p) => {
        const bytes = writeProgramFile(p);
        const back = readProgramFile(bytes, { config: p.config });
        expect(back).toEqual(p);
        expect(writeProgramFile(back)).toEqual(bytes);
      }),
      { numRuns: 150 },
    );
  });

  it('has the documented layout', () => {
    const bytes = writeProgramFile(sample());
    const view = new DataView(bytes.buffer);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('NBL1');
    expect(view.getUint32(4, true)).toBe(2);
    const hlen = view.getUint32(8, true);
    expect(hlen % 16).toBe(0);
    expect(view.getUint32(12, true)).toBe(3 * 16 + 5 + 64);
    expect(bytes.length).toBe(16 + hlen + 3 * 16 + 5 + 64 + 4);
    expect(bytes[16 + hlen]).toBe(0x81); // LOAD (opcode 1) with push_next (bit 7)
  });

  it('rejects a wrong magic, another version, truncation and corruption with their codes', () => {
    const bytes = writeProgramFile(sample());
    const code = (b: Uint8Array) => thrownDiagnostic(() => readProgramFile(b, { file: 'p.nbl' })).code;
    expect(code(new Uint8Array(0))).toBe('NB-I010');
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(4, 3, true);
    expect(code(v2)).toBe('NB-I011');
    expect(code(bytes.subarray(0, bytes.length - 10))).toBe('NB-I012');
    const bad = bytes.slice();
    bad[20] = bad[20]! ^ 1;
    expect(code(bad)).toBe('NB-I012');
  });

  it('rejects a wrong magic', () => {
    expect(readError(new TextEncoder().encode('{"config": 1}'))).toMatch(/^p\.nbl: not a nibble program file/);
    expect(readError(new Uint8Array(0))).toMatch(/^p\.nbl: not a nibble program file/);
  });

  it('rejects an unsupported version', () => {
    const bytes = writeProgramFile(sample());
    new DataView(bytes.buffer).setUint32(4, 3, true);
    expect(readError(bytes)).toBe('p.nbl: unsupported format version 3 (this nibble reads version 2)');
    // version 1 encoded GEMM differently (before tap packing)
    new DataView(bytes.buffer).setUint32(4, 1, true);
    expect(readError(bytes)).toBe(
      'p.nbl: unsupported format version 1 (this nibble reads version 2: compile the model again)',
    );
  });

  it('rejects truncation with expected vs actual size, and trailing bytes', () => {
    const bytes = writeProgramFile(sample());
    expect(readError(bytes.subarray(0, bytes.length - 10))).toBe(
      `p.nbl: truncated: expected ${bytes.length} bytes, the file has ${bytes.length - 10}`,
    );
    expect(readError(bytes.subarray(0, 9))).toMatch(/truncated: the fixed prefix needs 16 bytes, the file has 9/);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(readError(longer)).toMatch(/3 unexpected trailing bytes/);
  });

  it('rejects corruption (CRC mismatch) anywhere', () => {
    const bytes = writeProgramFile(sample());
    fc.assert(
      fc.property(fc.nat(bytes.length - 17), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bad = bytes.slice();
        bad[16 + i] = bad[16 + i]! ^ x;
        expect(readError(bad)).toMatch(/^p\.nbl: corrupted: CRC-32 is 0x[0-9a-f]{8}, the file says 0x[0-9a-f]{8}$/);
      }),
      { numRuns: 100 },
    );
  });

  it('random bytes never crash the reader with anything but IsaError', () => {
    const good = writeProgramFile(sample());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (junk, keepPrefix) => {
        let bytes: Uint8Array = junk;
        if (keepPrefix && junk.length >= 20) {
          // Valid prefix, sizes and CRC around random header/payload bytes: reaches the JSON checks.
          bytes = junk.slice();
          bytes.set(good.subarray(0, 8));
          const view = new DataView(bytes.buffer);
          const h = Math.floor((junk.length - 20) / 2);
          view.setUint32(8, h, true);
          view.setUint32(12, junk.length - 20 - h, true);
          bytes = resealed(bytes);
        }
        try {
          readProgramFile(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(IsaError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('mutated headers (any value at any path) are read or rejected with IsaError, never crash', () => {
    const bytes = writeProgramFile(sample());
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    const hlen = new DataView(bytes.buffer).getUint32(8, true);
    walk(JSON.parse(Buffer.from(bytes.subarray(16, 16 + hlen)).toString('utf8')), []);
    fc.assert(
      fc.property(
        fc.constantFrom(...paths.filter((p) => p.length)),
        fc.jsonValue(),
        fc.boolean(),
        (path, value, remove) => {
          const mutated = withHeader(bytes, (h) => {
            let o = h;
            for (const k of path.slice(0, -1)) o = o[k];
            if (remove) delete o[path[path.length - 1]!];
            else o[path[path.length - 1]!] = value;
          });
          try {
            readProgramFile(mutated);
          } catch (e) {
            expect(e).toBeInstanceOf(IsaError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('.nbl program file: config, header, segment and code checks', () => {
  it('rejects a config mismatch, naming the differing fields', () => {
    const other = structuredClone(DEFAULT_CONFIG);
    other.array = { rows: 8, cols: 8 };
    other.queues.store = 2;
    expect(readError(writeProgramFile(sample()), other)).toBe(
      'p.nbl: compiled for a different machine (file vs expected): array.rows: 16 vs 8, array.cols: 16 vs 8, queues.store: 8 vs 2',
    );
  });

  it('rejects a tampered config (hash mismatch) and invalid configs', () => {
    const bytes = writeProgramFile(sample());
    expect(readError(withHeader(bytes, (h) => (h.config.queues.load = 4)))).toMatch(
      /^p\.nbl: configHash [0-9a-f]{16} does not match the config it is stored with/,
    );
    expect(readError(withHeader(bytes, (h) => (h.config.array.rows = 3)))).toMatch(
      /^p\.nbl: header config: .*array\.rows.*power of two/,
    );
    expect(readError(withHeader(bytes, (h) => delete h.config.dram.latency))).toBe(
      'p.nbl: header config.dram.latency: missing',
    );
    expect(readError(withHeader(bytes, (h) => (h.config.extra = 1)))).toMatch(
      /^p\.nbl: header config\.extra: unknown field/,
    );
  });

  it('a file written before config gemmBeside existed reads as the machine without it (same hash)', () => {
    const p = sample();
    p.config.gemmBeside = false;
    p.configHash = configHash(p.config);
    const old = withHeader(writeProgramFile(p), (h) => delete h.config.gemmBeside);
    const back = readProgramFile(old, { file: 'p.nbl' });
    expect(back.config.gemmBeside).toBe(false);
    expect(back.configHash).toBe(configHash({ ...DEFAULT_CONFIG, gemmBeside: false }));
  });

  it('rejects invalid JSON and missing or mistyped header fields', () => {
    const bytes = writeProgramFile(sample());
    const bad = bytes.slice();
    bad[16] = 0x7b + 1; // '|' instead of '{'
    expect(readError(resealed(bad))).toMatch(/^p\.nbl: header:1:1: not valid JSON: expected a value/);
    expect(readError(withHeader(bytes, (h) => delete h.layers))).toBe('p.nbl: header (root).layers: missing');
    expect(readError(withHeader(bytes, (h) => (h.segments[1].dramAddr = '0x10')))).toBe(
      'p.nbl: header segments[1].dramAddr: must be an integer, got "0x10"',
    );
    expect(readError(withHeader(bytes, (h) => (h.inputs[0].shape = [1, 2, 3])))).toMatch(
      /header inputs\[0\]\.shape: must be \[batch, channels, height, width\]/,
    );
    expect(readError(withHeader(bytes, (h) => (h.outputs[0].layout = 'nchw')))).toMatch(
      /header outputs\[0\]\.layout: must be 'blocked', 'nibble-planes' or 'nibble-lanes'/,
    );
    expect(readError(withHeader(bytes, (h) => (h.meta.x = null)))).toBe(
      'p.nbl: header meta.x: must be a number, got null',
    );
    expect(readError(withHeader(bytes, (h) => (h.code.instructions = 100)))).toMatch(
      /header says 100 instructions \(1600 bytes\) but the payload has 117 bytes/,
    );
  });

  it('rejects an input that overlaps a segment or another input (loading it would overwrite data)', () => {
    const good = writeProgramFile(sample());
    const onWeights = withHeader(good, (h) => {
      h.inputs[0].dramAddr = 0x100003;
    });
    expect(readError(onWeights)).toMatch(
      /p\.nbl: input 0 'x' image 0 \[1048579, 1048611\) overlaps segment 0 'weights' \[1048576, 1048581\): loading the input would overwrite it/,
    );
    const twoInputs = withHeader(good, (h) => {
      h.inputs.push({ ...h.inputs[0], name: 'x2', dramAddr: 0x1010 });
    });
    expect(readError(twoInputs)).toMatch(
      /input 1 'x2' image 0 \[4112, 4144\) overlaps input 0 'x' image 0 \[4096, 4128\)/,
    );
    // the writer refuses the same program
    const p = sample();
    p.inputs[0]!.dramAddr = 0x200010;
    expect(() => writeProgramFile(p)).toThrow(/overlaps segment 1 'params'/);
  });

  it('rejects overlapping segments and segments or tensors outside DRAM', () => {
    const p = sample();
    p.segments[1]!.dramAddr = 0x100004;
    expect(() => writeProgramFile(p)).toThrow(
      /segments 0 'weights' \[1048576, 1048581\) and 1 'params' \[1048580, 1048644\) overlap/,
    );
    const bytes = writeProgramFile(sample());
    expect(readError(withHeader(bytes, (h) => (h.segments[1].dramAddr = 0x100002)))).toMatch(
      /segments 0 'weights' .* overlap/,
    );
    expect(readError(withHeader(bytes, (h) => (h.segments[0].dramAddr = 2 ** 28 - 2)))).toMatch(
      /segment 0 'weights' \[268435454, 268435459\) lies outside DRAM \(268435456 bytes\)/,
    );
    expect(readError(withHeader(bytes, (h) => (h.segments[0].offset = 1000)))).toMatch(
      /segment 0 'weights' bytes \[1000, 1005\) are not inside the payload/,
    );
    expect(readError(withHeader(bytes, (h) => (h.outputs[0].dramAddr = 2 ** 28 - 8)))).toMatch(
      /output 0 'y' \[268435448, 268435464\) lies outside DRAM/,
    );
    expect(readError(withHeader(bytes, (h) => (h.inputs[0].imageStrideBytes = 4)))).toMatch(
      /input 0 'x': imageStrideBytes 4 is smaller than one image \(32 bytes\)/,
    );
    expect(readError(withHeader(bytes, (h) => (h.layers[0].lastInstruction = 3)))).toMatch(
      /layer 0 'conv1': instruction range \[0, 3\] is not inside the code \(3 instructions\)/,
    );
  });

  it('rejects undecodable instructions with their index', () => {
    const bytes = writeProgramFile(sample());
    const hlen = new DataView(bytes.buffer).getUint32(8, true);
    const bad = bytes.slice();
    bad[16 + hlen + 16] = 0x0e; // instruction 1: opcode 14
    expect(readError(resealed(bad))).toBe('p.nbl: instruction 1: illegal opcode 14');
  });

  it('refuses to write what it could not read', () => {
    const p = sample();
    p.configHash = '0000000000000000';
    expect(() => writeProgramFile(p)).toThrow(/configHash 0000000000000000 does not match/);
    const m = sample();
    m.meta['ratio'] = NaN;
    expect(() => writeProgramFile(m, 'out.nbl')).toThrow(/^out\.nbl: header meta\.ratio: must be a number, got null/);
    const t = sample();
    t.layers[0]!.macs = 1.5;
    expect(() => writeProgramFile(t)).toThrow(/header layers\[0\]\.macs: must be an integer, got 1\.5/);
    const q = sample();
    (q.code[0] as { x_count: number }).x_count = 0;
    expect(() => writeProgramFile(q)).toThrow(/instruction 0: LOAD\.x_count = 0 is out of range/);
  });
});

describe('.nbl program file: tensor descriptors and a strict header', () => {
  it('checks strided images against each other and segments in linear time (huge batches, huge header shapes)', () => {
    const good = writeProgramFile(sample());
    // image 99,999 of a 1,048,576-image input lands on the weights: found, named, and quickly
    const huge = withHeader(good, (h) => {
      h.inputs[0].shape = [1_048_576, 1, 1, 1];
      h.inputs[0].imageStrideBytes = 8;
      h.inputs[0].dramAddr = 0x100000 - 8 * 100_000 + 2;
    });
    const t0 = performance.now();
    expect(readError(huge)).toMatch(/input 0 'x' image 99999 \[1048570, 1048578\) overlaps segment 0 'weights'/);
    const clean = withHeader(good, (h) => {
      h.inputs[0].shape = [1_048_576, 1, 1, 1];
      h.inputs[0].imageStrideBytes = 8;
      h.inputs[0].dramAddr = 0x200100;
      h.inputs.push({ ...h.inputs[0], name: 'y', dramAddr: 0x200104 });
    });
    expect(readError(clean)).toMatch(/input 1 'y' image 0 \[2097412, 2097420\) overlaps input 0 'x' image 0/);
    expect(performance.now() - t0).toBeLessThan(5000); // was hours: quadratic in the images
  });

  it('rejects a tensor whose bits do not fit its layout (values would be cut silently)', () => {
    const good = writeProgramFile(sample());
    expect(readError(withHeader(good, (h) => (h.inputs[0].bits = 16)))).toMatch(
      /p\.nbl: header inputs\[0\]\.bits: 16 bits do not fit the 'blocked' layout of 4-bit activations/,
    );
    expect(
      readError(
        withHeader(good, (h) => {
          h.inputs[0].layout = 'nibble-planes';
          h.inputs[0].bits = 16;
        }),
      ),
    ).toMatch(/inputs\[0\]\.bits: a 'nibble-planes' tensor holds 5 to 8 bits, got 16/);
    expect(
      readError(
        withHeader(good, (h) => {
          h.inputs[0].layout = 'nibble-lanes';
          h.inputs[0].bits = 4;
        }),
      ),
    ).toMatch(/inputs\[0\]\.bits: a 'nibble-lanes' tensor holds 5 to 8 bits \(two 4-bit nibble lanes\), got 4/);
    expect(
      readError(
        withHeader(good, (h) => {
          h.inputs[0].layout = 'nibble-lanes';
          h.inputs[0].bits = 8;
          h.inputs[0].signed = true;
        }),
      ),
    ).toMatch(/inputs\[0\]\.signed: a 'nibble-lanes' tensor is unsigned/);
    expect(readError(withHeader(good, (h) => (h.outputs[0].bits = 5)))).toMatch(
      /outputs\[0\]\.bits: 5 bits do not fit/,
    );
  });

  it('rejects a header with duplicate keys', () => {
    const good = writeProgramFile(sample());
    const dup = withHeaderText(good, (t) => t.replace('"meta":{', '"meta":{"a":1,"a":2,'));
    expect(readError(dup)).toMatch(/p\.nbl: header:1:\d+: not valid JSON: duplicate key "a" in meta/);
  });
});
