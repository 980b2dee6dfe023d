/**
 * The DRAM plan's packed weights (compiler/dram.ts packWeights: row sources per
 * kernel window, packed a run of rows at a time) against a plain oracle that
 * places every weight by its (co block, term, chunk, window, ci block, tile,
 * row, lane) position, on ordinary, tap-packed and nibble-lane terms, on
 * square and rectangular arrays.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, presetConfig, resolveConfig, type ArchConfig } from '../../arch/index.js';
import { planDram } from '../../compiler/dram.js';
import { lowerNetwork } from '../../compiler/lower.js';
import { planOp, windowTiles, type OpPlan } from '../../compiler/tiling.js';
import { packEntry } from '../../isa/index.js';
import { zooNetwork, type Network } from '../../models/index.js';

/** Every WGT item of a plan, laid out weight by weight. */
function oracleWeights(plan: OpPlan, cfg: ArchConfig): Uint8Array {
  const R = cfg.array.rows;
  const n = cfg.array.cols;
  const eb = (n * cfg.bits.weight) / 8;
  const out: number[] = [];
  const lanes = new Int32Array(n);
  for (let o = 0; o < plan.coBlocks; o++) {
    for (const tp of plan.terms) {
      const t = tp.term;
      for (const ch of tp.chunks) {
        for (const win of tp.windows) {
          const ww = win.x1 - win.x0;
          const taps = (win.y1 - win.y0) * ww;
          for (let cb = ch.c0; cb < ch.c1; cb++) {
            for (let q = 0; q < windowTiles(tp.taps, win); q++) {
              for (let r = 0; r < R; r++) {
                let ci: number | undefined;
                let tap = q;
                if (!tp.taps.lanes) ci = cb * R + r < t.ci ? cb * R + r : undefined;
                else {
                  const g = tp.taps.lanes;
                  const j = Math.floor(r / g);
                  tap = q * tp.taps.perPass + j;
                  if (j < tp.taps.perPass && tap < taps) ci = tp.taps.nibbleLanes ? (r % g) >> 1 : r % g;
                }
                lanes.fill(0);
                if (ci !== undefined) {
                  const y = win.y0 + Math.floor(tap / ww);
                  const x = win.x0 + (tap % ww);
                  for (let c = 0; c < n && o * n + c < plan.op.co; c++)
                    lanes[c] = t.weights[(((o * n + c) * t.ci + ci) * t.kh + y) * t.kw + x]!;
                }
                const entry = new Uint8Array(eb);
                packEntry(lanes, n, cfg.bits.weight, entry, 0);
                out.push(...entry);
              }
            }
          }
        }
      }
    }
  }
  return Uint8Array.from(out);
}

function checkPacking(net: Network, cfg: ArchConfig, lanesInput: boolean): void {
  const lowered = lowerNetwork(net, cfg);
  if (lanesInput) lowered.input.layout = 'nibble-lanes';
  const plans = lowered.ops.map((op) => planOp(op, cfg, 1, true));
  const dram = planDram(lowered, plans, cfg, 1);
  plans.forEach((plan) => {
    const seg = dram.segments.find((s) => s.name === `${plan.op.name}.weights`)!;
    expect(seg.bytes).toEqual(oracleWeights(plan, cfg));
  });
  // the packed ops include tap-packed terms (the 8-bit input's first layer) and ordinary ones
  expect(plans.some((p) => p.terms.some((t) => t.taps.lanes))).toBe(true);
  expect(plans.some((p) => p.terms.some((t) => !t.taps.lanes))).toBe(true);
}

describe('packed weights', () => {
  test('MNIST as nibble lanes and as nibble planes, default machine', () => {
    const net = zooNetwork('mnist', { inputSize: 12 });
    checkPacking(net, DEFAULT_CONFIG, true);
    checkPacking(net, DEFAULT_CONFIG, false);
  });

  test('MNIST on the edge machine (8x8 array) and on a rectangular one', () => {
    const net = zooNetwork('mnist', { inputSize: 12 });
    checkPacking(net, presetConfig('edge'), false);
    checkPacking(net, resolveConfig({ array: { rows: 16, cols: 8 } }), true);
  });
});
