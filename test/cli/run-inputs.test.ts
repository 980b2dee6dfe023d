/**
 * Issue 15, part 2 on the command line: `nibble run` says how dataset pixels
 * become the model's inputs and takes --input-shift; a model with another
 * output count than the dataset's classes is scored with a note instead of
 * refused; --input runs the reference (or the simulator) on arbitrary input
 * files and prints the outputs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { calibrateNetwork } from '../../models/calibration.js';
import type { Network } from '../../models/ir.js';
import { saveModelJson } from '../../models/model-json.js';
import { runReference } from '../../models/reference.js';
import { ensureBuilt, expectUserError, nibble } from './nibble.js';

/** A 4-bit-input MLP on 28x28 images with 12 outputs. */
function twelveOutputs(): Network {
  const f = 784;
  const net: Network = {
    name: 'mlp12',
    input: { channels: 1, height: 28, width: 28, bits: 4, signed: false },
    layers: [
      { kind: 'flatten', name: 'flat' },
      {
        kind: 'dense',
        name: 'fc',
        inFeatures: f,
        outFeatures: 12,
        weights: Int8Array.from({ length: 12 * f }, (_, i) => ((i * 7) % 15) - 7),
      },
      { kind: 'requant', name: 'rq', signed: true, bits: 4, bias: new Int32Array(12), shift: new Int8Array(12) },
    ],
    weightBits: 4,
    accumulatorBits: 32,
  };
  calibrateNetwork(net, { method: 'samples', samples: 4, seed: 1 });
  return net;
}

let tmp: string;
let model: string;
const net = twelveOutputs();
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'nibble-run-inputs-'));
  model = join(tmp, 'mlp12.json');
  writeFileSync(model, saveModelJson(net));
});

describe('nibble run: inputs', () => {
  test('a 4-bit model on MNIST: the pixel transform is said, 12 outputs are scored with a note', async () => {
    const r = await nibble(['run', '--model', model, '--limit', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("inputs: MNIST pixels >> 4 (0..15; the model's inputs are 4-bit)");
    expect(r.stdout).toContain(
      'note[NB-D201]: the model has 12 outputs but mnist-test has 10 classes: a top-1 output 10..11 never matches a label',
    );
    const j = JSON.parse(
      (await nibble(['run', '--model', model, '--limit', '20', '--input-shift', '5', '--json'])).stdout,
    );
    expect(j.inputs).toBe("MNIST pixels >> 5 (0..7; the model's inputs are 4-bit)");
    expect(j.images).toBe(20);
    expect(typeof j.accuracy).toBe('number');
  });

  test('an --input-shift that leaves values too wide for the inputs is refused', async () => {
    expectUserError(
      await nibble(['run', '--model', model, '--limit', '2', '--input-shift', '2']),
      /--input-shift 2 leaves pixel values up to 63 but the model's inputs are 4-bit \(at most 15\): shift by at least 4$/,
    );
  });

  test('--input: the reference on arbitrary images, outputs printed and saved; the simulator agrees', async () => {
    const images = [0, 1, 2].map((k) => Array.from({ length: 784 }, (_, i) => (i * (k + 3)) % 16));
    const file = join(tmp, 'images.json');
    writeFileSync(file, JSON.stringify(images));
    const expected = runReference(net, Int32Array.from(images.flat()), 3).output;
    const saved = join(tmp, 'out.json');
    const r = await nibble(['run', '--model', model, '--input', file, '--json', '--save-outputs', saved]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(saved, 'utf8')).flat()).toEqual(Array.from(expected));
    const doc = JSON.parse(r.stdout);
    expect(doc.inputFile).toBe(file);
    expect(doc.inputs).toBe(`as given in ${file} (4-bit)`);
    expect(doc.outputs.flat()).toEqual(Array.from(expected));
    expect(doc.predictions).toHaveLength(3);
    expect(doc.accuracy).toBeUndefined();
    const text = await nibble(['run', '--model', model, '--input', file, '--engine', 'sim', '--check']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      'check: simulator outputs are bit-identical to the reference executor on all 3 images',
    );
    expect(text.stdout).toMatch(/image\s+top-1\s+outputs/);
  });

  test('bad input files and option mixes are one-line errors naming the place', async () => {
    const short = join(tmp, 'short.json');
    writeFileSync(short, JSON.stringify([new Array(784).fill(0), [1, 2, 3, 4, 5]]));
    expectUserError(
      await nibble(['run', '--model', model, '--input', short]),
      /short\.json: image 1 has 5 values but the model's input is 1x28x28 \(784\)$/,
    );
    const wide = join(tmp, 'wide.json');
    writeFileSync(wide, JSON.stringify([0, 0, 0, 16, ...new Array(780).fill(0)]));
    expectUserError(
      await nibble(['run', '--model', model, '--input', wide]),
      /wide\.json: input\[3\] = 16 is outside the 4-bit unsigned range \[0, 15\]$/,
    );
    const odd = join(tmp, 'odd.json');
    writeFileSync(odd, JSON.stringify(new Array(1000).fill(0)));
    expectUserError(
      await nibble(['run', '--model', model, '--input', odd]),
      /odd\.json: 1000 values are not a whole number of 1x28x28 images \(784 values each\)$/,
    );
    expectUserError(
      await nibble(['run', '--model', model, '--input', odd, '--limit', '3']),
      /--limit applies to a dataset; --input gives the network's inputs as they are$/,
    );
  });
});
