/**
 * A program as the AXI shell runs it: the instruction words up to HALT (what
 * the shell fetches into its instruction memory) and the core's DRAM image
 * from address 0 (what the host puts at DATA_BASE). Checked against the shell:
 * a program longer than the instruction memory, or a DMA row whose address is
 * not aligned to its AXI beat, is refused naming the instruction and the fix.
 */
import { RtlError, type ArchConfig } from '../arch/index.js';
import { encodeProgramCode, type Instruction, type Program } from '../isa/index.js';
import type { ShellParams } from '../rtl-gen/index.js';
import { buildDram, prepareProgram } from '../sim/index.js';

export interface ShellImage {
  /** instruction words up to and including HALT, 16 little-endian bytes each */
  code: Uint8Array;
  words: number;
  /** the core's initial DRAM: segments and inputs, from address 0 to the last byte the program touches */
  data: Uint8Array;
}

type Dma = Extract<Instruction, { op: 'LOAD' | 'STORE' }>;

/** Throws unless every LOAD/STORE row starts on its AXI beat (AxSIZE) boundary. */
export function checkShellAlignment(program: Program, p: ShellParams): void {
  program.code.forEach((inst, i) => {
    if (inst.op !== 'LOAD' && inst.op !== 'STORE') return;
    const d = inst as Dma;
    const entry = inst.op === 'STORE' ? p.entries[3]! : p.entries[(inst as Extract<Instruction, { op: 'LOAD' }>).buf]!;
    const beat = 2 ** entry.size;
    const bad =
      d.dram_addr % beat !== 0
        ? `dram_addr ${d.dram_addr}`
        : d.y_count > 1 && d.dram_stride % beat !== 0
          ? `dram_stride ${d.dram_stride}`
          : '';
    if (bad) {
      throw new RtlError(
        `${inst.op} ${bad} is not a multiple of its ${beat}-byte AXI beat (${entry.kind.toUpperCase()} entries of ${entry.bytes} bytes on a ${p.busBytes}-byte bus): ` +
          'place the DRAM tensors on beat boundaries (the compiler aligns them to 64 bytes)',
        `instruction ${i}`,
      );
    }
  });
}

/** The shell's view of a program; throws RtlError when it cannot run on the shell `p` describes. */
export function shellImage(
  program: Program,
  p: ShellParams,
  inputs?: Record<string, Int32Array | Uint8Array>,
  seed = 1,
): ShellImage {
  const prepared = prepareProgram(program);
  const words = prepared.count;
  if (p.streaming && words > p.maxProgramWords)
    throw new RtlError(
      `the program has ${words} instruction words; the streaming shell's ${p.indexBits}-bit instruction index runs at most ${p.maxProgramWords}: generate it with a larger indexBits`,
      'program',
    );
  if (!p.streaming && words > p.insnWords) {
    throw new RtlError(
      `the program has ${words} instruction words (${words * 16} bytes) but the shell's instruction memory holds ${p.insnWords}: ` +
        `generate the shell with insnWords >= ${2 ** Math.ceil(Math.log2(words))} (nibble rtl --shell axi --insn-words N)`,
      'program',
    );
  }
  checkShellAlignment(program, p);
  const { dram } = buildDram(program, prepared, inputs, seed);
  return { code: encodeProgramCode(program.code.slice(0, words), program.config), words, data: dram };
}

/**
 * Move every DRAM region of a program (segments, input and output tensors) to
 * an `align`-byte boundary, keeping each region's contents and the order of
 * the regions; LOAD/STORE addresses move with the region they point into.
 * Random test programs place regions at odd bytes; this makes them runnable
 * on the shell without changing what they compute.
 */
export function alignProgram(program: Program, align: number): Program {
  const regions: { start: number; end: number }[] = [
    ...program.segments.map((s) => ({ start: s.dramAddr, end: s.dramAddr + s.bytes.length })),
    ...[...program.inputs, ...program.outputs].map((t) => ({
      start: t.dramAddr,
      end: t.dramAddr + t.imageStrideBytes * t.shape[0],
    })),
  ].sort((a, b) => a.start - b.start || a.end - b.end);
  const moved: { start: number; end: number; to: number }[] = [];
  let cursor = 0;
  for (const r of regions) {
    const prev = moved[moved.length - 1];
    if (prev && r.start < prev.end) {
      // overlapping or nested regions move together with the one they start in
      moved.push({ ...r, to: prev.to + (r.start - prev.start) });
      cursor = Math.max(cursor, prev.to + (r.end - prev.start));
      continue;
    }
    const to = Math.ceil(Math.max(cursor, r.start) / align) * align;
    moved.push({ ...r, to });
    cursor = to + (r.end - r.start);
  }
  const map = (addr: number): number => {
    const r = moved.find((m) => addr >= m.start && addr < m.end) ?? moved.find((m) => addr === m.end);
    return r ? r.to + (addr - r.start) : addr;
  };
  const retarget = <T extends { dramAddr: number }>(x: T): T => ({ ...x, dramAddr: map(x.dramAddr) });
  return {
    ...program,
    segments: program.segments.map(retarget),
    inputs: program.inputs.map(retarget),
    outputs: program.outputs.map(retarget),
    code: program.code.map((inst) =>
      inst.op === 'LOAD' || inst.op === 'STORE' ? { ...inst, dram_addr: map(inst.dram_addr) } : inst,
    ),
  };
}

/** The largest bus width (bytes) not above the config's for which every entry moves in whole or single narrow beats. */
export function shellBusBytes(cfg: ArchConfig, entryBytes: number[]): number {
  let bus = Math.min(128, cfg.dram.busBytes);
  const ok = (b: number) => entryBytes.every((e) => (e >= b ? e % b === 0 : (e & (e - 1)) === 0));
  while (bus > 1 && !ok(bus)) bus /= 2;
  return bus;
}
