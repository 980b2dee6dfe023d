/** Model format 2 (.nbm): round trips, packing, and every corruption as a located error. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { ModelError } from '../../arch/index.js';
import {
  loadModelBinaryFile,
  saveModelBinary,
  saveModelJson,
  zooNetwork,
  type Network,
  type WithHost,
} from '../../models/index.js';
import { thrownMessage } from '../thrown.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nibble-nbm-'));
});

function roundTrip(net: Network & WithHost, name: string): Network & WithHost {
  const p = join(dir, name);
  saveModelBinary(p, net);
  return loadModelBinaryFile(p);
}

describe('format 2 round trips', () => {
  test('zoo networks (conv, pools, dense, residual blocks) come back identical', () => {
    for (const z of ['mnist', 'cifar10', 'resnet'] as const) {
      const net = zooNetwork(z, { inputSize: z === 'mnist' ? 28 : 16 });
      expect(saveModelJson(roundTrip(net, `${z}.nbm`))).toBe(saveModelJson(net));
    }
  });

  test('4-bit weights are packed two per byte; 8-bit weights one per byte', () => {
    const net = zooNetwork('mnist', {});
    const p = join(dir, 'packed.nbm');
    saveModelBinary(p, net);
    const weights = net.layers.reduce((s, l) => s + ('weights' in l ? l.weights.length : 0), 0);
    const size = readFileSync(p).length;
    expect(size).toBeLessThan(weights / 2 + 20_000);
    const wide: Network = {
      ...net,
      weightBits: 8,
      layers: net.layers.map((l) => (l.kind === 'dense' ? { ...l, weights: l.weights.map((w) => w * 16) } : l)),
    };
    expect(
      Array.from(
        (roundTrip(wide, 'wide.nbm').layers.find((l) => l.kind === 'dense') as { weights: Int8Array }).weights,
      ).slice(0, 8),
    ).toEqual(Array.from((wide.layers.find((l) => l.kind === 'dense') as { weights: Int8Array }).weights).slice(0, 8));
  });

  test('host stages (input tables, output slices, gains, heads) are stored with the network', () => {
    const net = zooNetwork('mnist', {});
    const host = {
      input: {
        rawBits: 8 as const,
        rawScale: 1 / 255,
        rawOffset: 0,
        tables: [Int32Array.from({ length: 256 }, (_, r) => r >> 4)],
        description: 'x',
      },
      output: {
        size: 10,
        index: Int32Array.from({ length: 10 }, (_, i) => i),
        slices: 1,
        sliceStride: 1,
        gain: new Float64Array(10).fill(0.125),
        bias: new Float64Array(10).fill(-1.5),
        heads: [{ kind: 'softmax' as const }],
      },
    };
    const back = roundTrip({ ...net, host }, 'host.nbm');
    expect(back.host).toEqual(host);
  });
});

describe('corrupt files: one line naming the file and the reason', () => {
  function saved(): { path: string; bytes: Buffer } {
    const p = join(dir, 'base.nbm');
    saveModelBinary(p, zooNetwork('mnist', {}));
    return { path: p, bytes: readFileSync(p) };
  }
  function withBytes(name: string, bytes: Uint8Array): string {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  }
  const fail = (p: string) => thrownMessage(() => loadModelBinaryFile(p), ModelError);

  test('truncated', () => {
    const { bytes } = saved();
    const p = withBytes('trunc.nbm', bytes.subarray(0, bytes.length - 100));
    expect(fail(p)).toMatch(
      new RegExp(`^${p}: section \\d+: truncated: the section ends at byte \\d+ but the file has \\d+ bytes$`),
    );
    expect(fail(withBytes('short.nbm', bytes.subarray(0, 12)))).toMatch(
      /: truncated: the file prefix ends at byte 20 but the file ends at byte 12$/,
    );
  });

  test('a flipped bit in a weight section fails its checksum', () => {
    const { bytes } = saved();
    const b = Buffer.from(bytes);
    b[b.length - 50]! ^= 0x10;
    expect(fail(withBytes('flip.nbm', b))).toMatch(/: section \d+: checksum mismatch \(the file is corrupt\)$/);
  });

  test('a changed header fails the header checksum; bad magic and unknown versions', () => {
    const { bytes } = saved();
    const h = Buffer.from(bytes);
    h[30]! ^= 0x01;
    expect(fail(withBytes('head.nbm', h))).toMatch(/: header checksum mismatch \(the file is corrupt\)$/);
    const m = Buffer.from(bytes);
    m[0] = 0x41;
    expect(fail(withBytes('magic.nbm', m))).toMatch(/: not a nibble binary model \(bad magic\)$/);
    const v = Buffer.from(bytes);
    v.writeUInt32LE(3, 8);
    expect(fail(withBytes('version.nbm', v))).toMatch(
      /: unsupported binary model version 3: this build reads version 2$/,
    );
  });

  test('nothing half-written when the target cannot be written', () => {
    const target = join(dir, 'isdir.nbm');
    mkdirSync(target);
    expect(thrownMessage(() => saveModelBinary(target, zooNetwork('mnist', {})), ModelError)).toMatch(
      /isdir\.nbm: cannot write: /,
    );
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(existsSync(join(target))).toBe(true);
  });
});
