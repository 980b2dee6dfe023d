/**
 * Generates docs/isa.md from the instruction table, so the reference can never
 * drift from the encoder (a test compares the file with this output).
 */
import { DEFAULT_CONFIG, deriveArch, type ArchConfig, type DerivedArch } from '../arch/index.js';
import { formatInstruction } from './assembly.js';
import { isaLayout } from './encoding.js';
import { MNEMONICS, OPS, type FieldDef, type Instruction, type OpDef } from './table.js';
import { DEP_FLAG_NAMES, HEADER_BITS, INSTRUCTION_BITS, UNITS, tokenChannel } from './word.js';

/** How each derived width comes from the config (keys of DerivedArch that are bit widths). */
const WIDTH_SOURCES: Partial<Record<keyof DerivedArch, string>> = {
  inpAddrBits: 'log2(scratchpad.inputEntries)',
  wgtAddrBits: 'log2(scratchpad.weightEntries)',
  accAddrBits: 'log2(scratchpad.accEntries)',
  outAddrBits: 'log2(scratchpad.outputEntries)',
  paramAddrBits: 'max(1, log2(scratchpad.paramEntries))',
  sramAddrBits: 'log2(largest scratchpad depth) (one LOAD address field serves INP, WGT and PARAM)',
  dramAddrBits: 'log2(dram.sizeBytes)',
  dimBits: 'bits to hold the largest scratchpad depth: ceil(log2(max depth + 1))',
  outDimBits: 'ceil(log2(max(accEntries, outputEntries) + 1))',
  accDimBits: 'ceil(log2(accEntries + 1)): a GEMM output tile never has more pixels than ACC entries',
  tapBits: 'ceil(log2(floor(array.rows / 2) + 1)): tap groups hold at most half the rows',
  maxTapLanes: 'floor(array.rows / 2)',
  activationBits: 'bits.activation (the clamp_bits limit)',
};

/** Which derived quantities a field's width (or max) depends on, found by perturbing each one. */
function widthSource(f: FieldDef, a: DerivedArch): string | undefined {
  const deps: string[] = [];
  for (const key of Object.keys(WIDTH_SOURCES) as (keyof DerivedArch)[]) {
    const bumped = { ...a, [key]: (a[key] as number) + 3 };
    if (f.width(bumped) !== f.width(a) || (f.max && f.max(bumped) !== f.max(a))) deps.push(key);
  }
  return deps.length ? deps.join(', ') : undefined;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function example(cfg: ArchConfig): string {
  const flags = { pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 } as const;
  const n = cfg.array.rows;
  const code: Instruction[] = [
    {
      op: 'LOAD',
      ...flags,
      buf: 1,
      sram_addr: 0,
      dram_addr: 0x1000,
      x_count: 9 * n,
      y_count: 1,
      dram_stride: 0,
      replicate: 0,
    },
    {
      op: 'LOAD',
      ...flags,
      buf: 2,
      sram_addr: 0,
      dram_addr: 0x8000,
      x_count: 1,
      y_count: 1,
      dram_stride: 0,
      replicate: 0,
    },
    {
      op: 'LOAD',
      ...flags,
      push_next: 1,
      buf: 0,
      sram_addr: 0,
      dram_addr: 0x20000,
      x_count: 10,
      y_count: 10,
      dram_stride: 10 * ((n * cfg.bits.activation) / 8),
      replicate: 0,
    },
    {
      op: 'GEMM',
      ...flags,
      pop_prev: 1,
      wgt_addr: 0,
      inp_addr: 0,
      acc_addr: 0,
      in_h: 10,
      in_w: 10,
      out_h: 8,
      out_w: 8,
      kernel_h: 3,
      kernel_w: 3,
      stride_h: 1,
      stride_w: 1,
      pad_top: 0,
      pad_left: 0,
      ci_blocks: 1,
      accumulate: 0,
      act_signed: 0,
      pshift: 0,
      taps: 0,
      nibble_lanes: 0,
    },
    {
      op: 'REQUANT',
      ...flags,
      push_next: 1,
      acc_addr: 0,
      out_addr: 0,
      param_addr: 0,
      in_h: 8,
      in_w: 8,
      out_h: 4,
      out_w: 4,
      pool_k: 2,
      pool_s: 2,
      out_signed: 0,
      clamp_bits: cfg.bits.activation,
      gemm_beside: 0,
    },
    { op: 'STORE', ...flags, pop_prev: 1, sram_addr: 0, dram_addr: 0x30000, x_count: 16, y_count: 1, dram_stride: 0 },
    { op: 'HALT', ...flags },
  ] as Instruction[];
  const comments = [
    `nine ${n}x${n} weight tiles (one per kernel tap)`,
    'bias and shift of the output channels',
    'a 10x10 input tile; tell compute it is there',
    'wait for the input; 3x3 conv -> 8x8 accumulators',
    'bias, shift, clamp, 2x2 max pool -> 4x4; tell store',
    'wait for the outputs',
    '',
  ];
  return code.map((inst, i) => formatInstruction(inst, cfg) + (comments[i] ? `  ; ${comments[i]}` : '')).join('\n');
}

/** The "Dependency tokens" section: channels per unit, the checker, races. */
function tokenSection(L: string[]): void {
  L.push('## Dependency tokens');
  L.push('');
  L.push(
    'Four token counters (16 bits each) connect the units in the chain load - compute - store, as in VTA. ' +
      '"prev" and "next" are relative to the executing unit. A pop flag makes the instruction wait at its start until the ' +
      'channel holds a token and takes it; a push flag adds a token when the instruction ends. A flag towards a neighbour ' +
      'that does not exist (load has no prev, store has no next) is illegal, and HALT has no flags.',
  );
  L.push('');
  L.push('| unit | pop_prev takes from | pop_next takes from | push_prev adds to | push_next adds to |');
  L.push('|---|---|---|---|---|');
  for (const u of UNITS) {
    const c = (f: 'pop_prev' | 'pop_next' | 'push_prev' | 'push_next') => tokenChannel(u, f) ?? '(illegal)';
    L.push(`| ${u} | ${c('pop_prev')} | ${c('pop_next')} | ${c('push_prev')} | ${c('push_next')} |`);
  }
  L.push('');
  L.push(
    'Before a program runs, `checkTokenBalance` (isa/tokens.ts) executes its token flow abstractly, including the bounded ' +
      'instruction queues (`config.queues`), and rejects any program that can deadlock; tokens left over at the end are a warning ' +
      '(an error with `strict`).',
  );
  L.push('');
  L.push(
    'Tokens are the only order between units. Two instructions on different units that touch the same scratchpad entries ' +
      'or DRAM bytes, at least one of them writing, must be ordered by a chain of unit order and push -> pop edges (the k-th ' +
      'pop of a channel follows its k-th push); otherwise the result depends on timing and the program is a race. Given ' +
      'the machine (`config`), the token checker refuses races, naming both instructions, and so does every simulator ' +
      "engine before it runs anything (isa/hazards.ts; each opcode's regions are its module's `accesses`: LOAD writes " +
      'its INP/WGT/PARAM range and reads its DRAM rows, GEMM reads its whole INP tile and weight tiles, REQUANT and POOL ' +
      'write their OUT range, STORE reads its OUT range and writes its DRAM rows).',
  );
  L.push('');
}

/** "Whole programs": the directives of isa/program-text.ts. */
function wholeProgramSection(L: string[]): void {
  L.push('### Whole programs');
  L.push('');
  L.push(
    'Directive lines (starting with `.`) carry everything else a program file holds, so `nibble disasm` (the default) ' +
      'then `nibble asm` rebuilds a `.nbl` byte for byte (isa/program-text.ts):',
  );
  L.push('');
  L.push('| directive | what | example |');
  L.push('|---|---|---|');
  const rows: [string, string, string][] = [
    [
      '`.config JSON`',
      'the complete machine config, one line (before the first instruction)',
      '`.config {"array":{"rows":16,"cols":16},...}`',
    ],
    [
      '`.config-hash H`',
      'configHash of the config; checked. A `.config` without a field added since (a text from before it, e.g. `gemmBeside`) whose hash is the machine without that field assembles as that machine',
      '`.config-hash 90b53b8444bdf957`',
    ],
    ['`.meta JSON`', 'provenance: an object of strings and numbers', '`.meta {"model":"mnist","batch":1}`'],
    [
      '`.input` / `.output`',
      'a tensor: name, dram, shape NxCxHxW, layout, bits, signed, image-stride',
      '`.input name=input dram=0x1000 shape=1x1x28x28 layout=nibble-planes bits=8 signed=0 image-stride=1600`',
    ],
    [
      '`.segment ... hex`',
      'initial DRAM bytes given by the `.data` lines after it',
      '`.segment name=conv1.params dram=0x480 size=128 hex`',
    ],
    ['`.data HEX`', 'bytes of the open hex segment, in order', '`.data 00ff10...`'],
    [
      '`.segment ... file=PATH`',
      'initial DRAM bytes from a binary file (relative to the text)',
      '`.segment name=conv1.weights dram=0x0 size=1152 file=m.s.data/0-conv1.weights.bin`',
    ],
    [
      '`.layer`',
      'a layer starting at the next instruction: name, kind, macs (useful MACs), instructions (its count), optional first',
      '`.layer name=conv1 kind=conv2d macs=97344 instructions=58`',
    ],
  ];
  for (const [d, what, ex] of rows) L.push(`| ${d} | ${what} | ${ex} |`);
  L.push('');
  L.push(
    'Values are decimal or `0x` numbers, bare words, or JSON strings (`name="a name; with anything"`). ' +
      'Text without directives is a bare instruction list for the config given (`--config`); its program has no data, tensors ' +
      'or layers, so figures that need useful MACs fall back (`nibble sim` prints the utilization as n/a and the energy per issued MAC).',
  );
  L.push('');
}

/** docs/isa.md for a config (the checked-in file uses the default config). */
export function renderIsaMarkdown(cfg: ArchConfig = DEFAULT_CONFIG): string {
  const a = deriveArch(cfg);
  const layout = isaLayout(cfg);
  const L: string[] = [];
  const isDefault = cfg === DEFAULT_CONFIG;
  L.push('# nibble instruction set');
  L.push('');
  L.push(
    '<!-- Generated by renderIsaMarkdown() in isa/isa-doc.ts from isa/table.ts. Do not edit: change the table and run ' +
      '`UPDATE_DOCS=1 npx vitest run test/isa/isa-doc.test.ts`. -->',
  );
  L.push('');
  L.push(
    `Field widths below are for the ${isDefault ? 'default config (`DEFAULT_CONFIG` in arch/config.ts)' : 'given config'}: ` +
      `array ${a.rows} x ${a.cols} (R x C), INP/WGT/ACC/OUT/PARAM depths ${cfg.scratchpad.inputEntries}/${cfg.scratchpad.weightEntries}/` +
      `${cfg.scratchpad.accEntries}/${cfg.scratchpad.outputEntries}/${cfg.scratchpad.paramEntries} entries, ` +
      `DRAM ${cfg.dram.sizeBytes} bytes. Other configs move the fields (see "How widths derive from the config"). ` +
      'Cycle timing of every instruction is specified in [architecture.md](architecture.md).',
  );
  L.push('');
  L.push('## Overview');
  L.push('');
  L.push(
    `Every instruction is one ${INSTRUCTION_BITS}-bit word (${INSTRUCTION_BITS / 8} bytes, little-endian). ` +
      'Fetch reads the words in order and dispatches each to the queue of the unit that executes it ' +
      '(LOAD, COMPUTE, STORE); units run in order and independently, synchronised only by dependency tokens. ' +
      'HALT stops fetch.',
  );
  L.push('');
  L.push('| opcode | mnemonic | unit | bits used | what it does |');
  L.push('|---|---|---|---|---|');
  for (const m of MNEMONICS) {
    const def = OPS[m] as OpDef;
    const unit = def.unit === 'field' ? 'named by its `unit` field' : def.unit === 'halt' ? '(fetch)' : def.unit;
    L.push(`| ${def.opcode} | ${m} | ${unit} | ${layout.get(m)!.usedBits} / ${INSTRUCTION_BITS} | ${cell(def.doc)} |`);
  }
  L.push('');
  L.push('## Word layout');
  L.push('');
  L.push('| bits | name | meaning |');
  L.push('|---|---|---|');
  L.push('| [3:0] | opcode | operation (table above); other values are illegal |');
  DEP_FLAG_NAMES.forEach((f, i) => L.push(`| [${4 + i}] | ${f} | dependency flag (see "Dependency tokens") |`));
  L.push(
    `| [${INSTRUCTION_BITS - 1}:${HEADER_BITS}] | fields | the opcode's fields, packed upward from bit ${HEADER_BITS} in table order; bits above the last field must be 0 |`,
  );
  L.push('');
  L.push(
    'A decoder rejects an illegal opcode, a field outside its range (below) and non-zero unused bits, so every accepted word means exactly one thing.',
  );
  L.push('');
  L.push('## Instructions');
  for (const m of MNEMONICS) {
    const def = OPS[m] as OpDef;
    const ol = layout.get(m)!;
    L.push('');
    L.push(`### ${m} (opcode ${def.opcode})`);
    L.push('');
    L.push(def.doc);
    L.push('');
    if (!ol.fields.length) {
      L.push('No fields; it cannot pop or push tokens.');
      continue;
    }
    L.push('| field | bits [msb:lsb] | width | range | width from | meaning |');
    L.push('|---|---|---|---|---|---|');
    ol.fields.forEach((f, i) => {
      const src = widthSource((def.fields as readonly FieldDef[])[i]!, a);
      const bits = f.width === 1 ? `[${f.lsb}]` : `[${f.lsb + f.width - 1}:${f.lsb}]`;
      const range = f.enumNames ? f.enumNames.map((n, v) => `${n}=${v}`).join(', ') : `${f.min} .. ${f.max}`;
      L.push(`| ${f.name} | ${bits} | ${f.width} | ${range} | ${src ?? 'fixed'} | ${cell(f.doc)} |`);
    });
    L.push('');
    L.push(`Unused: bits [${INSTRUCTION_BITS - 1}:${ol.usedBits}] (${INSTRUCTION_BITS - ol.usedBits} bits) must be 0.`);
  }
  L.push('');
  L.push('## How widths derive from the config');
  L.push('');
  L.push(
    'Address and tile-dimension fields are exactly as wide as the config needs, computed by `deriveArch` (arch/config.ts). ' +
      '`isaLayout` (isa/encoding.ts), which every tool runs on a config before using it, rejects a config whose widest opcode no longer fits the word.',
  );
  L.push('');
  L.push('| derived width | from | default config |');
  L.push('|---|---|---|');
  for (const [k, v] of Object.entries(WIDTH_SOURCES)) L.push(`| ${k} | ${cell(v)} | ${a[k as keyof DerivedArch]} |`);
  L.push('');
  L.push('See [config.md](config.md) for every config field.');
  L.push('');
  tokenSection(L);
  L.push('## Assembly syntax');
  L.push('');
  L.push('```');
  L.push('MNEMONIC [pop_prev] [pop_next] [push_prev] [push_next] field=value ...   ; comment');
  L.push('```');
  L.push('');
  L.push(
    '- one instruction per line; blank lines are fine; `;` or `#` starts a comment that runs to the end of the line;',
  );
  L.push(
    '- mnemonics are case-insensitive; field names are lower case, written `name=value` with no spaces around `=`;',
  );
  L.push(
    '- every field of the opcode is required, in any order; dependency flags are bare words (or `flag=0|1`) and default to 0;',
  );
  L.push('- values are decimal or `0x` hex; enum fields (`buf`, `unit`) also take their names;');
  L.push(
    '- errors name `file:line:column` of the offending token: unknown mnemonic (with the closest match), unknown, duplicate or missing field, bad number, value out of range (with the range and width), a flag the unit cannot use.',
  );
  L.push('');
  L.push('Example (one 3 x 3 convolution tile with fused requant and 2 x 2 pooling):');
  L.push('');
  L.push('```');
  L.push(example(cfg));
  L.push('```');
  L.push('');
  L.push(
    '`nibble disasm --code-only` prints this form (optionally with `; [index]` and `; layer <name>` comments); it assembles back to the identical words.',
  );
  L.push('');
  wholeProgramSection(L);
  return L.join('\n');
}
