/**
 * A deliberately naive re-implementation of the ISA semantics (isa/table.ts docs,
 * docs/architecture.md 7.3) for checking the engines' data path: byte-level
 * scratchpads packed with isa/layout.ts, one lane at a time, instructions in
 * program order (valid for programs whose tokens order every hazard in program
 * order, as randomProgram's do).
 */
import { assertNever } from '../../arch/index.js';
import { deriveArch } from '../../arch/config.js';
import { packEntry, packTensor, unpackEntry, unpackParamEntry, unpackTensor } from '../../isa/layout.js';
import type { Program } from '../../isa/program.js';

export function naiveRun(
  p: Program,
  inputs: Record<string, Int32Array>,
  dramSize: number,
): { dram: Uint8Array; outputs: Record<string, Int32Array> } {
  const cfg = p.config;
  const a = deriveArch(cfg);
  const { rows: R, cols: n } = a;
  const dram = new Uint8Array(dramSize);
  for (const s of p.segments) dram.set(s.bytes, s.dramAddr);
  for (const d of p.inputs) {
    const bytes = packTensor(d, inputs[d.name]!, cfg);
    dram.set(bytes.subarray(0, Math.min(bytes.length, dram.length - d.dramAddr)), d.dramAddr);
  }
  const sp = cfg.scratchpad;
  const inp = new Uint8Array(sp.inputEntries * a.inpEntryBytes);
  const wgt = new Uint8Array(sp.weightEntries * a.wgtEntryBytes);
  const param = new Uint8Array(sp.paramEntries * a.paramEntryBytes);
  const acc: number[][] = Array.from({ length: sp.accEntries }, () => new Array<number>(n).fill(0));
  const out = new Uint8Array(sp.outputEntries * a.outEntryBytes);
  const lane = (buf: Uint8Array, eb: number, entry: number, bits: number, signed: boolean, lanes = n): number[] => {
    const v = new Array<number>(lanes);
    unpackEntry(buf, entry * eb, lanes, bits, signed, v);
    return v;
  };
  for (const inst of p.code) {
    if (inst.op === 'HALT') break;
    if (inst.op === 'LOAD') {
      const [buf, eb] =
        inst.buf === 0 ? [inp, a.inpEntryBytes] : inst.buf === 1 ? [wgt, a.wgtEntryBytes] : [param, a.paramEntryBytes];
      let e = inst.sram_addr;
      for (let y = 0; y < inst.y_count; y++)
        for (let x = 0; x < inst.x_count; x++, e++) {
          buf.set(
            dram.subarray(
              inst.dram_addr + y * inst.dram_stride + x * eb,
              inst.dram_addr + y * inst.dram_stride + (x + 1) * eb,
            ),
            e * eb,
          );
          if (inst.replicate) {
            // lane l of the entry becomes lane l mod g
            const v = lane(inp, eb, e, a.activationBits, false, R);
            packEntry(
              v.map((_, l) => v[l % inst.replicate]!),
              R,
              a.activationBits,
              inp,
              e * eb,
            );
          }
        }
    } else if (inst.op === 'STORE') {
      const eb = a.outEntryBytes;
      let e = inst.sram_addr;
      for (let y = 0; y < inst.y_count; y++)
        for (let x = 0; x < inst.x_count; x++, e++)
          dram.set(out.subarray(e * eb, (e + 1) * eb), inst.dram_addr + y * inst.dram_stride + x * eb);
    } else if (inst.op === 'GEMM') {
      const g = inst;
      // the taps of each pass: one per pass, or floor(R / g) per pass tap-packed (row j*g + l: tap j of the pass)
      const T = g.kernel_h * g.kernel_w;
      // tap-packed (taps = 1): ci_blocks is the tap group g, one channel block
      const lanes = g.taps ? g.ci_blocks : 0;
      const blocks = g.taps ? 1 : g.ci_blocks;
      const per = lanes ? Math.floor(R / lanes) : 1;
      const groups = Math.ceil(T / per);
      let pass = 0;
      for (let cb = 0; cb < blocks; cb++)
        for (let q = 0; q < groups; q++, pass++) {
          const rowTap = (r: number): number => {
            if (!lanes) return q;
            const j = Math.floor(r / lanes);
            return j < per && q * per + j < T ? q * per + j : -1;
          };
          for (let oy = 0; oy < g.out_h; oy++)
            for (let ox = 0; ox < g.out_w; ox++) {
              const av = new Array<number>(R).fill(0);
              for (let r = 0; r < R; r++) {
                const t = rowTap(r);
                if (t < 0) continue;
                const iy = oy * g.stride_h + Math.floor(t / g.kernel_w) - g.pad_top;
                const ix = ox * g.stride_w + (t % g.kernel_w) - g.pad_left;
                if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                const entry = lane(
                  inp,
                  a.inpEntryBytes,
                  g.inp_addr + cb * g.in_h * g.in_w + iy * g.in_w + ix,
                  a.activationBits,
                  g.act_signed === 1,
                  R,
                );
                const high = g.nibble_lanes && (r % lanes) % 2 === 1;
                av[r] = entry[r]! * (high ? 16 : 1);
              }
              const accRow = acc[g.acc_addr + oy * g.out_w + ox]!;
              for (let c = 0; c < n; c++) {
                let s = 0;
                for (let r = 0; r < R; r++)
                  s += av[r]! * lane(wgt, a.wgtEntryBytes, g.wgt_addr + pass * R + r, a.weightBits, true)[c]!;
                const v = s * 2 ** g.pshift + (pass === 0 && !g.accumulate ? 0 : accRow[c]!);
                if (v < a.accMin || v > a.accMax) throw new Error(`naive: overflow`);
                accRow[c] = v;
              }
            }
        }
    } else if (inst.op === 'REQUANT') {
      const { bias, shift } = unpackParamEntry(param, inst.param_addr * a.paramEntryBytes, n);
      const b = inst.clamp_bits;
      const lo = inst.out_signed ? -(2 ** (b - 1) - 1) : 0;
      const hi = inst.out_signed ? 2 ** (b - 1) - 1 : 2 ** b - 1;
      for (let oy = 0; oy < inst.out_h; oy++)
        for (let ox = 0; ox < inst.out_w; ox++) {
          const res: number[] = [];
          for (let c = 0; c < n; c++) {
            let m = -Infinity;
            for (let ky = 0; ky < inst.pool_k; ky++)
              for (let kx = 0; kx < inst.pool_k; kx++)
                m = Math.max(m, acc[inst.acc_addr + (oy * inst.pool_s + ky) * inst.in_w + ox * inst.pool_s + kx]![c]!);
            const v = BigInt(m) - BigInt(bias[c]!);
            const s = shift[c]!;
            // floor division by 2^s with BigInt (>> on negative BigInt is floor)
            let q = s >= 0 ? v >> BigInt(s) : v << BigInt(-s);
            if (q < BigInt(lo)) q = BigInt(lo);
            if (q > BigInt(hi)) q = BigInt(hi);
            res.push(Number(q));
          }
          packEntry(res, n, a.activationBits, out, (inst.out_addr + oy * inst.out_w + ox) * a.outEntryBytes);
        }
    } else if (inst.op === 'POOL') {
      for (let oy = 0; oy < inst.out_h; oy++)
        for (let ox = 0; ox < inst.out_w; ox++) {
          const res = new Array<number>(n).fill(-Infinity);
          for (let ky = 0; ky < inst.pool_k; ky++)
            for (let kx = 0; kx < inst.pool_k; kx++) {
              const v = lane(
                out,
                a.outEntryBytes,
                inst.src_addr + (oy * inst.pool_s + ky) * inst.in_w + ox * inst.pool_s + kx,
                a.activationBits,
                inst.act_signed === 1,
              );
              for (let c = 0; c < n; c++) res[c] = Math.max(res[c]!, v[c]!);
            }
          packEntry(res, n, a.activationBits, out, (inst.dst_addr + oy * inst.out_w + ox) * a.outEntryBytes);
        }
    } else if (inst.op !== 'NOP') {
      // a new opcode needs its naive semantics here (docs/extending.md)
      assertNever(inst, 'opcode');
    }
  }
  const outputs: Record<string, Int32Array> = {};
  for (const d of p.outputs) outputs[d.name] = unpackTensor(d, dram, cfg);
  return { dram, outputs };
}
