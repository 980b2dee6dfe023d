/** fast-check generators for configs, instructions and programs, built from the ISA table. */
import fc from 'fast-check';
import { DEFAULT_CONFIG, configHash, validateConfig, type ArchConfig } from '../../arch/config.js';
import {
  MNEMONICS,
  OPS,
  UNITS,
  isaLayout,
  nextUnit,
  prevUnit,
  type Instruction,
  type Mnemonic,
  type OpLayout,
  type Program,
  type Unit,
} from '../../isa/index.js';

const pow2 = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((e) => 2 ** e);

/** Random configs that pass validateConfig and whose opcodes fit the word (isaLayout); the others are filtered out. */
export const arbConfig: fc.Arbitrary<ArchConfig> = fc
  .record({
    n: pow2(1, 5),
    weight: fc.constantFrom(4, 8),
    activation: fc.constantFrom(4, 8),
    accumulator: fc.integer({ min: 16, max: 32 }),
    inp: pow2(5, 14),
    wgt: pow2(6, 14),
    acc: pow2(4, 13),
    out: pow2(4, 14),
    param: pow2(0, 10),
    bus: pow2(0, 6),
    latency: fc.integer({ min: 1, max: 100 }),
    dram: pow2(16, 32),
    q: fc.tuple(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 })),
  })
  .map((r) => ({
    ...structuredClone(DEFAULT_CONFIG),
    array: { rows: r.n, cols: r.n },
    bits: { weight: r.weight, activation: r.activation, accumulator: r.accumulator },
    scratchpad: {
      inputEntries: r.inp,
      weightEntries: r.wgt,
      accEntries: r.acc,
      outputEntries: r.out,
      paramEntries: r.param,
    },
    dram: { busBytes: r.bus, latency: r.latency, sizeBytes: r.dram },
    queues: { load: r.q[0], compute: r.q[1], store: r.q[2] },
  }))
  .filter((c) => {
    try {
      validateConfig(c);
      isaLayout(c);
      return true;
    } catch {
      return false;
    }
  });

function arbFlags(unit: Unit | undefined) {
  const bit = (ok: boolean) => (ok ? fc.constantFrom<0 | 1>(0, 1) : fc.constant<0 | 1>(0));
  const hasPrev = !!unit && !!prevUnit(unit);
  const hasNext = !!unit && !!nextUnit(unit);
  return fc.record({
    pop_prev: bit(hasPrev),
    pop_next: bit(hasNext),
    push_prev: bit(hasPrev),
    push_next: bit(hasNext),
  });
}

/** A random valid instruction of opcode `m` for the given layout. */
export function arbInstructionOf(m: Mnemonic, layout: OpLayout): fc.Arbitrary<Instruction> {
  const fields: Record<string, fc.Arbitrary<number>> = {};
  for (const f of layout.fields) {
    // Bias towards the edges of the range, where encoding bugs live.
    fields[f.name] = fc.oneof(fc.constantFrom(f.min, f.max), fc.integer({ min: f.min, max: f.max }));
  }
  return fc.record(fields).chain((vals) => {
    const unit: Unit | undefined =
      m === 'NOP' ? UNITS[vals['unit']!] : OPS[m].unit === 'halt' ? undefined : (OPS[m].unit as Unit);
    return arbFlags(unit).map((flags) => ({ op: m, ...flags, ...vals }) as unknown as Instruction);
  });
}

export function arbInstruction(cfg: ArchConfig): fc.Arbitrary<Instruction> {
  const layout = isaLayout(cfg);
  return fc.constantFrom(...MNEMONICS).chain((m) => arbInstructionOf(m, layout.get(m)!));
}

export const arbConfigAndCode = arbConfig.chain((cfg) =>
  fc.tuple(fc.constant(cfg), fc.array(arbInstruction(cfg), { minLength: 0, maxLength: 20 })),
);

const arbName = fc.string({ minLength: 0, maxLength: 12 });

/** Random valid programs: disjoint segments, inputs disjoint from them and each other, tensors and layers inside their ranges. */
export const arbProgram: fc.Arbitrary<Program> = arbConfigAndCode.chain(([cfg, code]) => {
  const dram = cfg.dram.sizeBytes;
  const segs = fc.array(fc.tuple(arbName, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 4096 })), {
    maxLength: 5,
  });
  const tensor = fc.record({
    name: arbName,
    dramAddr: fc.integer({ min: 0, max: dram / 2 }),
    shape: fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 8 }),
    ),
    layout: fc.constantFrom('blocked' as const, 'nibble-planes' as const, 'nibble-lanes' as const),
    bits: fc.constantFrom(4, 8),
    signed: fc.boolean(),
    extraStride: fc.integer({ min: 0, max: 64 }),
  });
  const layer = fc.record({
    name: arbName,
    kind: fc.constantFrom('conv2d', 'dense', 'maxpool', 'flatten'),
    macs: fc.nat(),
    a: fc.nat(),
    b: fc.nat(),
  });
  return fc
    .record({
      segs,
      inputs: fc.array(tensor, { maxLength: 2 }),
      outputs: fc.array(tensor, { maxLength: 2 }),
      layers: fc.array(layer, { maxLength: code.length ? 4 : 0 }),
      meta: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer())),
    })
    .map((r) => {
      let addr = 0;
      const segments = r.segs.map(([name, bytes, gap]) => {
        const s = { name, dramAddr: addr + gap, bytes };
        addr += gap + bytes.length;
        return s;
      });
      const fixTensor = (t: (typeof r.inputs)[number]) => {
        const n = cfg.array.rows;
        const image =
          Math.ceil(((t.layout === 'nibble-lanes' ? 2 : 1) * t.shape[1]) / n) *
          t.shape[2] *
          t.shape[3] *
          ((n * cfg.bits.activation) / 8) *
          (t.layout === 'nibble-planes' ? 2 : 1);
        const stride = image + t.extraStride;
        const dramAddr = Math.min(t.dramAddr, dram - stride * t.shape[0]);
        return {
          name: t.name,
          dramAddr,
          shape: t.shape,
          layout: t.layout,
          // the element width fits the layout (program-file.ts checkTensorLayout)
          bits:
            t.layout === 'blocked'
              ? Math.min(t.bits, cfg.bits.activation)
              : t.layout === 'nibble-lanes'
                ? 8
                : 2 * cfg.bits.activation,
          signed: t.layout === 'blocked' && t.signed,
          imageStrideBytes: stride,
        };
      };
      // inputs are loaded into DRAM beside the segments, so they must not overlap them or each other
      const inputs = r.inputs.map(fixTensor).flatMap((t) => {
        const start = addr + (t.dramAddr % 1024);
        const end = start + t.imageStrideBytes * t.shape[0];
        if (end > dram) return [];
        addr = end;
        return [{ ...t, dramAddr: start }];
      });
      return {
        config: cfg,
        configHash: configHash(cfg),
        code,
        segments,
        inputs,
        outputs: r.outputs.map(fixTensor),
        layers: r.layers.map((l) => {
          const x = l.a % code.length;
          const y = l.b % code.length;
          return {
            name: l.name,
            kind: l.kind,
            macs: l.macs,
            firstInstruction: Math.min(x, y),
            lastInstruction: Math.max(x, y),
          };
        }),
        meta: r.meta,
      };
    });
});
