/**
 * The AXI4-Lite register map of the shell (s_axi_control), generated from the
 * config: one table that the Verilog register file, the C header
 * (rtl-gen/driver) and docs/registers.md are all produced from. Offsets follow
 * the Vitis ap_ctrl_hs layout for the first four registers, so XRT-style host
 * code finds CTRL/GIE/IER/ISR where it expects them.
 */
import { canonicalConfigJson, configHash } from '../../arch/index.js';
import { shellParams, type ShellOptions, type ShellParams } from './options.js';

/** RW: read/write; RO: read-only; W1C: write 1 to clear; CTRL: the start/done/idle control word. */
export type RegisterAccess = 'RW' | 'RO' | 'W1C' | 'CTRL';

export interface RegisterField {
  name: string;
  lsb: number;
  width: number;
  doc: string;
}

/** Performance counters: the core's (docs/simulator.md) and the shell's own. */
export const COUNTERS = [
  ['CYCLES', "core cycles from its start until done (the simulator's T)"],
  ['BUSY_LOAD', 'cycles the LOAD unit has an instruction in flight'],
  ['BUSY_COMPUTE', 'cycles the COMPUTE unit has an instruction in flight'],
  ['BUSY_STORE', 'cycles the STORE unit has an instruction in flight'],
  ['ARRAY_ACTIVE', 'cycles a pixel is issued into the systolic array'],
  ['MACS', 'multiply-accumulates (ARRAY_ACTIVE x N^2)'],
  ['FETCH_CYCLES', 'cycles from ap_start until the program is in the instruction memory'],
  ['TOTAL_CYCLES', 'cycles from ap_start until ap_done'],
  ['READ_BEATS', 'AXI read beats received (program fetch and LOADs)'],
  ['WRITE_BEATS', 'AXI write beats sent (STOREs)'],
] as const;
export type CounterName = (typeof COUNTERS)[number][0];

/** Where a register's value comes from; the Verilog register file maps each kind to logic. */
export type RegisterSource =
  | { kind: 'ctrl' | 'gie' | 'ier' | 'isr' | 'status' | 'error' | 'errorResp' | 'programLength' }
  | { kind: 'const'; value: number }
  | { kind: 'errorAddr' | 'programBase' | 'dataBase'; half: 0 | 1 }
  | { kind: 'counter'; counter: CounterName; index: number; half: 0 | 1 };

export interface RegisterDef {
  name: string;
  offset: number;
  access: RegisterAccess;
  /** value after reset (constants: their value) */
  reset: number;
  doc: string;
  fields?: RegisterField[];
  source: RegisterSource;
}

export interface RegisterMap {
  registers: RegisterDef[];
  /** s_axi_control address width (bytes, so the map's span is 2^addrBits) */
  addrBits: number;
  params: ShellParams;
}

/** 'NIBL' in ASCII: a register read that returns it proves the bus reaches a nibble shell. */
export const SHELL_ID = 0x4e49424c;
/** Bumped whenever an offset or a field of this map changes. */
export const REGISTER_MAP_VERSION = 2;

/** Bits of ERROR (sticky until the next ap_start). */
export const ERROR_BITS = [
  ['READ_RESP', 'a LOAD read returned SLVERR or DECERR (the data of that beat is undefined; the run continues)'],
  ['WRITE_RESP', 'a STORE write returned SLVERR or DECERR'],
  ['FETCH_RESP', 'the program fetch returned SLVERR or DECERR: the core was not started'],
  ['ILLEGAL', 'the core fetched an illegal instruction (or ran past PROGRAM_LENGTH) and stopped fetching'],
  ['LENGTH', 'PROGRAM_LENGTH is 0 or larger than INSN_WORDS: the run was refused'],
  [
    'ALIGN',
    'PROGRAM_BASE is not aligned to 16 bytes and the bus width, or DATA_BASE not to the bus width: the run was refused',
  ],
  [
    'ACC_OVF',
    "a GEMM wrote an accumulator lane outside bits.accumulator (the core's sticky acc_ovf; the run continues, the ACC keeps the wrapped sum; the simulator refuses such a program)",
  ],
] as const;

const lo32 = (x: bigint) => Number(x & 0xffffffffn);
const hi32 = (x: bigint) => Number((x >> 32n) & 0xffffffffn);

function configNumbers(p: ShellParams): [string, number, string][] {
  const c = p.cfg;
  const sp = c.scratchpad;
  return [
    ['ARRAY', c.array.rows | (c.array.cols << 16), 'array.rows in [15:0], array.cols in [31:16]'],
    [
      'BITS',
      c.bits.weight | (c.bits.activation << 8) | (c.bits.accumulator << 16),
      'bits.weight [7:0], bits.activation [15:8], bits.accumulator [23:16]',
    ],
    ['INP_ENTRIES', sp.inputEntries, 'scratchpad.inputEntries'],
    ['WGT_ENTRIES', sp.weightEntries, 'scratchpad.weightEntries'],
    ['ACC_ENTRIES', sp.accEntries, 'scratchpad.accEntries'],
    ['OUT_ENTRIES', sp.outputEntries, 'scratchpad.outputEntries'],
    ['PARAM_ENTRIES', sp.paramEntries, 'scratchpad.paramEntries'],
    ['BUS_BYTES', c.dram.busBytes, 'dram.busBytes: the m_axi_gmem data width in bytes'],
    ['DRAM_LATENCY', c.dram.latency, 'dram.latency the simulator assumes (cycles from request to first beat)'],
    ['DRAM_ADDR_BITS', p.dramAddrBits, 'log2 dram.sizeBytes: the core addresses DATA_BASE .. DATA_BASE + 2^this - 1'],
    [
      'QUEUES',
      c.queues.load | (c.queues.compute << 8) | (c.queues.store << 16),
      'queues.load [7:0], queues.compute [15:8], queues.store [23:16]',
    ],
    ['REQUANT_STAGES', c.requantStages, 'requantStages'],
    ['CLOCK_KHZ', Math.round(c.clockMHz * 1000), 'clockMHz x 1000 (the clock the reports assume)'],
    ['INSN_WORDS', p.insnWords, 'instruction memory depth: the longest program, in 128-bit words'],
    ['AXI_ADDR_BITS', p.addrBits, 'm_axi_gmem address width'],
    ['COUNTER_BITS', p.counterBits, 'width of the core counters (MACS has 2 log2 N more bits)'],
  ];
}

/** STATUS, ERROR and ERROR_RESP: what the shell is doing and what went wrong. */
function statusRegisters(): Omit<RegisterDef, 'offset'>[] {
  return [
    {
      name: 'STATUS',
      access: 'RO',
      reset: 0,
      doc: 'what the shell is doing',
      fields: [
        { name: 'FETCHING', lsb: 0, width: 1, doc: 'the program is being fetched into the instruction memory' },
        { name: 'RUNNING', lsb: 1, width: 1, doc: 'the core is running' },
        { name: 'DONE', lsb: 2, width: 1, doc: 'the last run finished (sticky until the next AP_START)' },
        { name: 'ERROR', lsb: 3, width: 1, doc: 'ERROR is not zero' },
      ],
      source: { kind: 'status' },
    },
    {
      name: 'ERROR',
      access: 'RO',
      reset: 0,
      doc: 'error causes of the last run (sticky until the next AP_START)',
      fields: ERROR_BITS.map(([name, doc], i) => ({ name, lsb: i, width: 1, doc })),
      source: { kind: 'error' },
    },
    {
      name: 'ERROR_RESP',
      access: 'RO',
      reset: 0,
      doc: 'the first bus error: its xRESP and channel',
      fields: [
        { name: 'RESP', lsb: 0, width: 2, doc: 'RRESP or BRESP (2 SLVERR, 3 DECERR)' },
        { name: 'WRITE', lsb: 2, width: 1, doc: '1: a write response (B), 0: a read (R)' },
      ],
      source: { kind: 'errorResp' },
    },
  ];
}

/** The register map of the shell for this config and these shell options. */
export function registerMap(cfg: ShellParams['cfg'], opts: ShellOptions = {}): RegisterMap {
  const p = shellParams(cfg, opts);
  const hash = BigInt(`0x${configHash(p.cfg)}`);
  const regs: RegisterDef[] = [];
  let at = 0;
  const add = (r: Omit<RegisterDef, 'offset'>, offset = at) => {
    regs.push({ ...r, offset });
    at = offset + 4;
  };
  const cst = (name: string, value: number, doc: string, offset?: number) =>
    add({ name, access: 'RO', reset: value >>> 0, doc, source: { kind: 'const', value: value >>> 0 } }, offset);
  add({
    name: 'CTRL',
    access: 'CTRL',
    reset: 0x4,
    doc: 'control: write 1 to AP_START to run the program; AP_DONE is cleared by reading CTRL',
    fields: [
      {
        name: 'AP_START',
        lsb: 0,
        width: 1,
        doc: 'write 1: fetch the program and run it (ignored unless AP_IDLE); reads 1 while a run is in progress',
      },
      { name: 'AP_DONE', lsb: 1, width: 1, doc: 'the run finished (with or without an error); clear on read' },
      { name: 'AP_IDLE', lsb: 2, width: 1, doc: 'no run in progress' },
      { name: 'AP_READY', lsb: 3, width: 1, doc: 'as AP_DONE (a new start is accepted); clear on read' },
    ],
    source: { kind: 'ctrl' },
  });
  add({
    name: 'GIE',
    access: 'RW',
    reset: 0,
    doc: 'global interrupt enable',
    fields: [{ name: 'ENABLE', lsb: 0, width: 1, doc: 'drive `interrupt` from ISR & IER' }],
    source: { kind: 'gie' },
  });
  const irqFields: RegisterField[] = [
    { name: 'DONE', lsb: 0, width: 1, doc: 'the run finished' },
    { name: 'ERROR', lsb: 1, width: 1, doc: 'an error was recorded in ERROR' },
  ];
  add({ name: 'IER', access: 'RW', reset: 0, doc: 'interrupt enable', fields: irqFields, source: { kind: 'ier' } });
  add({
    name: 'ISR',
    access: 'W1C',
    reset: 0,
    doc: 'interrupt status: set by the events, write 1 to clear (Vitis toggles on write: writing back the bits read clears them in both)',
    fields: irqFields,
    source: { kind: 'isr' },
  });
  cst('ID', SHELL_ID, "'NIBL': identifies a nibble AXI shell");
  cst('VERSION', REGISTER_MAP_VERSION, 'register map version');
  cst('CONFIG_HASH_LO', lo32(hash), `configHash ${configHash(p.cfg)}, low word`);
  cst('CONFIG_HASH_HI', hi32(hash), 'configHash, high word (the driver refuses a mismatch with its header)');
  for (const r of statusRegisters()) add(r);
  add({
    name: 'ERROR_ADDR_LO',
    access: 'RO',
    reset: 0,
    doc: 'AXI address of the latest burst (AR or AW) accepted when the first error response arrived, low word',
    source: { kind: 'errorAddr', half: 0 },
  });
  add({ name: 'ERROR_ADDR_HI', access: 'RO', reset: 0, doc: 'high word', source: { kind: 'errorAddr', half: 1 } });
  const wide = p.addrBits > 32;
  add(
    {
      name: 'PROGRAM_BASE_LO',
      access: 'RW',
      reset: 0,
      doc: 'AXI address of instruction word 0 (16-byte and bus aligned), low word',
      source: { kind: 'programBase', half: 0 },
    },
    0x40,
  );
  add({
    name: 'PROGRAM_BASE_HI',
    access: wide ? 'RW' : 'RO',
    reset: 0,
    doc: wide ? 'high word' : 'high word (reads 0: 32-bit addresses)',
    source: { kind: 'programBase', half: 1 },
  });
  add({
    name: 'PROGRAM_LENGTH',
    access: 'RW',
    reset: 0,
    doc: `instruction words to fetch and run (1 .. INSN_WORDS = ${p.insnWords}); the program ends with HALT`,
    source: { kind: 'programLength' },
  });
  add({
    name: 'DATA_BASE_LO',
    access: 'RW',
    reset: 0,
    doc: "AXI address of the core's DRAM address 0 (bus aligned), low word",
    source: { kind: 'dataBase', half: 0 },
  });
  add({
    name: 'DATA_BASE_HI',
    access: wide ? 'RW' : 'RO',
    reset: 0,
    doc: wide ? 'high word' : 'high word (reads 0: 32-bit addresses)',
    source: { kind: 'dataBase', half: 1 },
  });
  at = 0x60;
  COUNTERS.forEach(([counter, doc], index) => {
    add({
      name: `${counter}_LO`,
      access: 'RO',
      reset: 0,
      doc: `${doc}; reading _LO latches _HI`,
      source: { kind: 'counter', counter, index, half: 0 },
    });
    add({
      name: `${counter}_HI`,
      access: 'RO',
      reset: 0,
      doc: 'high word, as latched by the last _LO read',
      source: { kind: 'counter', counter, index, half: 1 },
    });
  });
  at = 0xc0;
  for (const [name, value, doc] of configNumbers(p)) cst(name, value, doc);
  const span = Math.max(...regs.map((r) => r.offset)) + 4;
  return { registers: regs, addrBits: Math.max(4, Math.ceil(Math.log2(span))), params: p };
}

function hex(x: number, digits = 8): string {
  return `0x${x.toString(16).toUpperCase().padStart(digits, '0')}`;
}

/** docs/registers.md: the register map of a config, generated (drift-tested against this table). */
export function renderRegistersMarkdown(cfg: ShellParams['cfg'], opts: ShellOptions = {}): string {
  const m = registerMap(cfg, opts);
  const p = m.params;
  const lines = [
    '# AXI4-Lite register map (`s_axi_control`)',
    '',
    '<!-- Generated by renderRegistersMarkdown() in rtl-gen/shell/registers.ts; do not edit.',
    '     Regenerate: UPDATE_DOCS=1 npx vitest run test/board/registers.test.ts -->',
    '',
    `Generated for the default config (configHash \`${configHash(p.cfg)}\`) with the default shell options:`,
    `${p.addrBits}-bit AXI addresses, ${p.insnWords}-word instruction memory. Offsets and fields are the`,
    'same for every config; the constant registers (ID, VERSION, CONFIG_HASH and the config numbers at',
    `0xC0 and up) hold that config's values. The map spans ${2 ** m.addrBits} bytes (\`s_axi_control_AWADDR\` /`,
    `\`ARADDR\` are ${m.addrBits} bits); unmapped offsets read 0 and ignore writes; every response is OKAY.`,
    'The C header `nibble_regs.h` (`nibble rtl --driver -o DIR`) has the same table as `#define`s.',
    '',
    '| offset | name | access | reset / value | description |',
    '|---|---|---|---|---|',
  ];
  for (const r of m.registers)
    lines.push(`| ${hex(r.offset, 2)} | \`${r.name}\` | ${r.access} | ${hex(r.reset)} | ${r.doc} |`);
  lines.push('', '## Fields', '');
  for (const r of m.registers.filter((x) => x.fields)) {
    lines.push(`### ${r.name} (${hex(r.offset, 2)})`, '', '| bits | field | meaning |', '|---|---|---|');
    for (const f of r.fields!) {
      const bits = f.width === 1 ? `${f.lsb}` : `${f.lsb + f.width - 1}:${f.lsb}`;
      lines.push(`| ${bits} | \`${f.name}\` | ${f.doc} |`);
    }
    lines.push('');
  }
  lines.push('## The config these values come from', '', '```json', canonicalConfigJson(p.cfg), '```', '');
  return lines.join('\n');
}
