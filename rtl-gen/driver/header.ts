/**
 * nibble_regs.h: the register map, the config constants and the ISA encodings
 * of one config as C #defines, generated from the same tables the Verilog is
 * generated from (registers.ts, arch/config.ts, isa/ layout): never copied by
 * hand, so the header cannot drift from the hardware it drives.
 */
import { canonicalConfigJson, configHash, deriveArch } from '../../arch/index.js';
import { DEP_FLAG_NAMES, INSTRUCTION_BYTES, isaLayout } from '../../isa/index.js';
import { COUNTERS, ERROR_BITS, registerMap, type RegisterMap } from '../shell/registers.js';
import type { ShellOptions, ShellParams } from '../shell/options.js';

const u = (x: number) => `0x${(x >>> 0).toString(16).toUpperCase()}u`;
const define = (name: string, value: string, comment?: string) =>
  `#define ${name.padEnd(40)} ${value}${comment ? ` /* ${comment.replace(/\*\//g, '* /')} */` : ''}`;

function registerDefines(m: RegisterMap): string[] {
  const out: string[] = ['/* ---- register offsets (s_axi_control, byte addresses, 32-bit registers) ---- */'];
  for (const r of m.registers) out.push(define(`NIBBLE_REG_${r.name}`, u(r.offset), `${r.access}: ${r.doc}`));
  out.push('', '/* ---- register fields ---- */');
  for (const r of m.registers.filter((x) => x.fields)) {
    for (const f of r.fields!) {
      const mask = f.width >= 32 ? 0xffffffff : ((1 << f.width) - 1) << f.lsb;
      out.push(define(`NIBBLE_${r.name}_${f.name}_SHIFT`, String(f.lsb)));
      out.push(define(`NIBBLE_${r.name}_${f.name}_MASK`, u(mask), f.doc));
    }
  }
  out.push('', '/* ---- values the constant registers hold for this config (the driver checks them) ---- */');
  for (const r of m.registers.filter((x) => x.source.kind === 'const'))
    out.push(define(`NIBBLE_${r.name}_VALUE`, u(r.reset)));
  out.push('', '/* ---- performance counters: index i has NIBBLE_REG_<name>_LO at NIBBLE_REG_CYCLES_LO + 8 i ---- */');
  COUNTERS.forEach(([name, doc], i) => out.push(define(`NIBBLE_COUNTER_${name}`, String(i), doc)));
  out.push(define('NIBBLE_COUNTER_COUNT', String(COUNTERS.length)));
  out.push(
    `#define NIBBLE_COUNTER_NAMES { ${COUNTERS.map(([n]) => `"${n.toLowerCase()}"`).join(', ')} }`,
    '',
    '/* ---- ERROR bits ---- */',
  );
  ERROR_BITS.forEach(([name, doc], i) => out.push(define(`NIBBLE_ERROR_${name}`, u(1 << i), doc)));
  out.push(`#define NIBBLE_ERROR_NAMES { ${ERROR_BITS.map(([n]) => `"${n.toLowerCase()}"`).join(', ')} }`);
  return out;
}

function configDefines(p: ShellParams): string[] {
  const c = p.cfg;
  const a = deriveArch(c);
  const rows: [string, string, string?][] = [
    ['NIBBLE_CONFIG_HASH', `0x${configHash(c)}ULL`, 'configHash of the config this header was generated for'],
    ['NIBBLE_CONFIG_HASH_STR', `"${configHash(c)}"`],
    ['NIBBLE_CFG_ARRAY_ROWS', String(c.array.rows)],
    ['NIBBLE_CFG_ARRAY_COLS', String(c.array.cols)],
    ['NIBBLE_CFG_WEIGHT_BITS', String(c.bits.weight)],
    ['NIBBLE_CFG_ACTIVATION_BITS', String(c.bits.activation)],
    ['NIBBLE_CFG_ACCUMULATOR_BITS', String(c.bits.accumulator)],
    ['NIBBLE_CFG_INP_ENTRIES', String(c.scratchpad.inputEntries)],
    ['NIBBLE_CFG_WGT_ENTRIES', String(c.scratchpad.weightEntries)],
    ['NIBBLE_CFG_ACC_ENTRIES', String(c.scratchpad.accEntries)],
    ['NIBBLE_CFG_OUT_ENTRIES', String(c.scratchpad.outputEntries)],
    ['NIBBLE_CFG_PARAM_ENTRIES', String(c.scratchpad.paramEntries)],
    ['NIBBLE_CFG_INP_ENTRY_BYTES', String(a.inpEntryBytes)],
    ['NIBBLE_CFG_WGT_ENTRY_BYTES', String(a.wgtEntryBytes)],
    ['NIBBLE_CFG_PARAM_ENTRY_BYTES', String(a.paramEntryBytes)],
    ['NIBBLE_CFG_OUT_ENTRY_BYTES', String(a.outEntryBytes)],
    ['NIBBLE_CFG_BUS_BYTES', String(c.dram.busBytes), 'm_axi_gmem data width in bytes'],
    ['NIBBLE_CFG_DRAM_LATENCY', String(c.dram.latency)],
    ['NIBBLE_CFG_DRAM_SIZE_BYTES', `${c.dram.sizeBytes}ULL`, 'the core addresses DATA_BASE .. DATA_BASE + this - 1'],
    ['NIBBLE_CFG_QUEUE_LOAD', String(c.queues.load)],
    ['NIBBLE_CFG_QUEUE_COMPUTE', String(c.queues.compute)],
    ['NIBBLE_CFG_QUEUE_STORE', String(c.queues.store)],
    ['NIBBLE_CFG_REQUANT_STAGES', String(c.requantStages)],
    ['NIBBLE_CFG_CLOCK_KHZ', String(Math.round(c.clockMHz * 1000))],
    ['NIBBLE_INSN_WORDS', String(p.insnWords), 'instruction memory depth (the streaming ring when NIBBLE_INSN_STREAM)'],
    ['NIBBLE_INSN_STREAM', p.streaming ? '1' : '0', 'the shell streams the program while the core runs'],
    ['NIBBLE_MAX_PROGRAM_WORDS', String(p.maxProgramWords), 'the longest program the shell runs'],
    ['NIBBLE_AXI_ADDR_BITS', String(p.addrBits)],
    ['NIBBLE_COUNTER_BITS', String(p.counterBits)],
    ['NIBBLE_PROGRAM_ALIGN', String(p.programAlign), 'PROGRAM_BASE alignment in bytes'],
    ['NIBBLE_DATA_ALIGN', String(c.dram.busBytes), 'DATA_BASE alignment in bytes'],
  ];
  return ['/* ---- the config (arch/config.ts) ---- */', ...rows.map(([n, v, d]) => define(n, v, d))];
}

function isaDefines(p: ShellParams): string[] {
  const out: string[] = [
    '/* ---- the ISA (isa/table.ts, docs/isa.md): 128-bit words, 16 little-endian bytes ---- */',
    define('NIBBLE_INSN_BYTES', String(INSTRUCTION_BYTES)),
    define('NIBBLE_OPCODE_LSB', '0'),
    define('NIBBLE_OPCODE_WIDTH', '4'),
  ];
  DEP_FLAG_NAMES.forEach((f, i) => out.push(define(`NIBBLE_FLAG_${f.toUpperCase()}_BIT`, String(4 + i))));
  for (const op of isaLayout(p.cfg).values()) {
    out.push(define(`NIBBLE_OP_${op.mnemonic}`, String(op.opcode)));
    for (const f of op.fields) {
      const base = `NIBBLE_${op.mnemonic}_${f.name.toUpperCase()}`;
      out.push(define(`${base}_LSB`, String(f.lsb)), define(`${base}_WIDTH`, String(f.width), f.doc));
    }
  }
  return out;
}

/** The text of nibble_regs.h for a config and shell options. */
export function generateRegsHeader(cfg: ShellParams['cfg'], opts: ShellOptions = {}): string {
  const m = registerMap(cfg, opts);
  return [
    '/*',
    ' * nibble_regs.h: register map, config constants and ISA encodings of one nibble accelerator.',
    ' * Generated by `nibble rtl --driver` from the config; do not edit, regenerate.',
    ` * configHash: ${configHash(m.params.cfg)}`,
    ` * config: ${canonicalConfigJson(m.params.cfg)}`,
    ' */',
    '#ifndef NIBBLE_REGS_H',
    '#define NIBBLE_REGS_H',
    '',
    ...configDefines(m.params),
    '',
    ...registerDefines(m),
    '',
    ...isaDefines(m.params),
    '',
    '#endif /* NIBBLE_REGS_H */',
    '',
  ].join('\n');
}
