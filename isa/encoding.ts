/**
 * Table-driven encoder and decoder for the 128-bit instruction word (layout in
 * isa/table.ts). Every field is range-checked against the config on encode and
 * on decode, so a word the hardware would misread never gets through.
 */
import { ConfigError, deriveArch, type ArchConfig, type DerivedArch, IsaError } from '../arch/index.js';
import { OP_BY_OPCODE, OPS, unitOf, type FieldDef, type Instruction, type Mnemonic, type OpDef } from './table.js';
import {
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  HEADER_BITS,
  INSTRUCTION_BITS,
  INSTRUCTION_BYTES,
  OPCODE_MASK,
  depFlagError,
} from './word.js';

export interface FieldLayout {
  name: string;
  lsb: number;
  width: number;
  min: number;
  max: number;
  enumNames?: readonly string[];
  doc: string;
}

export interface OpLayout {
  mnemonic: Mnemonic;
  opcode: number;
  fields: FieldLayout[];
  usedBits: number;
}

/**
 * Bit positions of every field of every opcode for one config. Throws
 * ConfigError if an opcode no longer fits the word: address and dimension
 * widths grow with the scratchpad depths and dram.sizeBytes.
 */
export function isaLayout(cfgOrDerived: ArchConfig | DerivedArch): Map<Mnemonic, OpLayout> {
  const a = 'gemmDepth' in cfgOrDerived ? cfgOrDerived : deriveArch(cfgOrDerived);
  const out = new Map<Mnemonic, OpLayout>();
  for (const [mn, def] of Object.entries(OPS) as [Mnemonic, OpDef][]) {
    let lsb = HEADER_BITS;
    const fields: FieldLayout[] = [];
    for (const f of def.fields as readonly FieldDef[]) {
      const width = f.width(a);
      const widthMax = 2 ** width - 1;
      const max = f.enumNames ? f.enumNames.length - 1 : Math.min(widthMax, f.max ? f.max(a) : widthMax);
      fields.push({
        name: f.name,
        lsb,
        width,
        min: f.min ?? 0,
        max,
        ...(f.enumNames ? { enumNames: f.enumNames } : {}),
        doc: f.doc,
      });
      lsb += width;
    }
    if (lsb > INSTRUCTION_BITS) {
      const wide = fields
        .filter((f) => f.width > 8)
        .map((f) => `${f.name} ${f.width}`)
        .join(', ');
      throw new ConfigError(
        `${mn} needs ${lsb} bits but the instruction word has ${INSTRUCTION_BITS} (wide fields: ${wide}): ` +
          'shrink the scratchpad depths (they set the address and tile-dimension widths) or dram.sizeBytes',
        'config.scratchpad',
      );
    }
    out.set(mn, { mnemonic: mn, opcode: def.opcode, fields, usedBits: lsb });
  }
  return out;
}

const layoutCache = new WeakMap<object, Map<Mnemonic, OpLayout>>();
function cachedLayout(cfg: ArchConfig): Map<Mnemonic, OpLayout> {
  let l = layoutCache.get(cfg);
  if (!l) {
    l = isaLayout(cfg);
    layoutCache.set(cfg, l);
  }
  return l;
}

/** The keys an instruction of a layout may have, built once per layout. */
const knownKeys = new WeakMap<OpLayout, Set<string>>();

function knownKeysOf(layout: OpLayout): Set<string> {
  let known = knownKeys.get(layout);
  if (!known) {
    known = new Set<string>(['op', ...DEP_FLAG_NAMES, ...layout.fields.map((f) => f.name)]);
    knownKeys.set(layout, known);
  }
  return known;
}

/** Generated field tests by source text: one function per distinct opcode layout, whichever config it came from. */
const generatedTests = new Map<string, (rec: Record<string, unknown>) => boolean>();

/** One generated test of an opcode's keys, flags and fields: its property reads see a single object shape. */
function fieldTest(layout: OpLayout): ((rec: Record<string, unknown>) => boolean) | undefined {
  const names = ['op', ...DEP_FLAG_NAMES, ...layout.fields.map((f) => f.name)];
  // a name that is no identifier never appears: its opcode's instructions all take the slow path
  if (!names.every((k) => /^[a-z_][a-z0-9_]*$/.test(k))) return undefined;
  const lines = [
    // every enumerable key (own ones included, which is what checkInstruction looks at) must be a known one
    `for (var k in r) { if (${names.map((k) => `k !== '${k}'`).join(' && ')}) return false; }`,
    ...DEP_FLAG_NAMES.map((k) => `if (r.${k} !== 0 && r.${k} !== 1) return false;`),
    ...layout.fields.map(
      (f) =>
        `v = r.${f.name}; if (typeof v !== 'number' || !Number.isInteger(v) || v < ${f.min} || v > ${f.max}) return false;`,
    ),
  ];
  const src = `return function (r) { var v; ${lines.join(' ')} return true; };`;
  let fn = generatedTests.get(src);
  if (!fn) {
    if (generatedTests.size > 256) generatedTests.clear();
    fn = new Function(src)() as (rec: Record<string, unknown>) => boolean;
    generatedTests.set(src, fn);
  }
  return fn;
}

/** The legality test of each config's layouts (isaLayout, cached per config object). */
const legalityTests = new WeakMap<Map<Mnemonic, OpLayout>, (inst: Instruction) => boolean>();

/**
 * A quick acceptance test with exactly checkInstruction's conditions, one
 * generated function per opcode layout: it only answers "certainly legal";
 * anything it rejects goes the slow way, which names the field and reason.
 * (The slow way looks up a key set and walks Object.keys per instruction: the
 * biggest per-instruction cost of compiling, writing, reading and checking a
 * program, each of which checks every instruction.)
 */
export function legalityTest(cfg: ArchConfig): (inst: Instruction) => boolean {
  const layouts = cachedLayout(cfg);
  let test = legalityTests.get(layouts);
  if (!test) {
    const byOp = new Map<string, (rec: Record<string, unknown>) => boolean>();
    for (const [op, l] of layouts) {
      const t = fieldTest(l);
      if (t) byOp.set(op, t);
    }
    test = (inst: Instruction) => {
      const check = byOp.get(inst.op);
      if (!check || !check(inst as unknown as Record<string, unknown>)) return false;
      const unit = unitOf(inst);
      for (const flag of DEP_FLAG_NAMES) if (inst[flag] && depFlagError(inst.op, unit, flag)) return false;
      return true;
    };
    legalityTests.set(layouts, test);
  }
  return test;
}

/** Check an instruction's fields against the table and config; throws IsaError naming `where` and the field. */
export function checkInstruction(inst: Instruction, cfg: ArchConfig, where = 'instruction'): void {
  if (!legalityTest(cfg)(inst)) explainIllegal(inst, cfg, where);
}

/** Throw the IsaError of the first thing wrong with an instruction (none: return). */
function explainIllegal(inst: Instruction, cfg: ArchConfig, where: string): void {
  const layout = cachedLayout(cfg).get(inst.op as Mnemonic);
  if (!layout) throw new IsaError(`unknown operation '${String((inst as { op: unknown }).op)}'`, where);
  const rec = inst as unknown as Record<string, unknown>;
  for (const flag of DEP_FLAG_NAMES) {
    const v = rec[flag];
    if (v !== 0 && v !== 1) throw new IsaError(`${inst.op}: ${flag} must be 0 or 1, got ${JSON.stringify(v)}`, where);
  }
  const known = knownKeysOf(layout);
  for (const k of Object.keys(rec)) {
    if (!known.has(k)) throw new IsaError(`${inst.op} has no field '${k}'`, where);
  }
  for (const f of layout.fields) {
    const v = rec[f.name];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new IsaError(`${inst.op}.${f.name} must be an integer, got ${JSON.stringify(v)}`, where);
    }
    if (v < f.min || v > f.max) {
      throw new IsaError(
        `${inst.op}.${f.name} = ${v} is out of range [${f.min}, ${f.max}] (${f.width}-bit field)`,
        where,
      );
    }
  }
  const unit = unitOf(inst);
  for (const flag of DEP_FLAG_NAMES) {
    const problem = inst[flag] ? depFlagError(inst.op, unit, flag) : undefined;
    if (problem) throw new IsaError(problem, where);
  }
}

/**
 * The instruction word as four little-endian 32-bit words, in numbers: encoding and decoding are on every
 * program load's path, and BigInt arithmetic (an allocation per operation) made decoding about 3 us an
 * instruction (160 ms of a VGG-16 program).
 */
const WORDS = INSTRUCTION_BYTES / 4;

/** Bits [lsb, lsb + width) of the word (width <= 53: every field's value is an exact double). */
function fieldBits(w: Uint32Array, lsb: number, width: number): number {
  let v = 0;
  let scale = 1;
  for (let pos = lsb, left = width; left > 0;) {
    const off = pos & 31;
    const take = Math.min(32 - off, left);
    const word = w[pos >>> 5]!;
    v += (take === 32 ? word : (word >>> off) & ((1 << take) - 1)) * scale;
    scale *= 2 ** take;
    pos += take;
    left -= take;
  }
  return v;
}

/** OR value (a non-negative integer below 2^width) into bits [lsb, lsb + width) of the word. */
function setFieldBits(w: Uint32Array, lsb: number, width: number, value: number): void {
  let v = value;
  for (let pos = lsb, left = width; left > 0;) {
    const off = pos & 31;
    const take = Math.min(32 - off, left);
    const part = v % 2 ** take;
    w[pos >>> 5] = (w[pos >>> 5]! | (part << off)) >>> 0;
    v = (v - part) / 2 ** take;
    pos += take;
    left -= take;
  }
}

const scratchWords = new Uint32Array(WORDS);

const encoders = new WeakMap<OpLayout, (inst: Record<string, number>, w: Uint32Array) => void>();
const encoderBySource = new Map<string, (inst: Record<string, number>, w: Uint32Array) => void>();

/**
 * One generated function per opcode layout that ORs a checked instruction's
 * opcode, flags and fields into a zeroed word (the decoder's mirror): a field
 * inside one 32-bit word is a shift, one that spans two goes through setFieldBits.
 */
function encoderOf(layout: OpLayout): (inst: Record<string, number>, w: Uint32Array) => void {
  let e = encoders.get(layout);
  if (!e) {
    const words: string[][] = Array.from({ length: WORDS }, () => []);
    const spanning: string[] = [];
    words[0]!.push(String(layout.opcode), ...DEP_FLAG_NAMES.map((f) => `(r.${f} << ${DEP_FLAG_BIT[f]})`));
    for (const f of layout.fields) {
      const off = f.lsb & 31;
      if (off + f.width > 32) spanning.push(`set(w, ${f.lsb}, ${f.width}, r.${f.name});`);
      else words[f.lsb >>> 5]!.push(off === 0 ? `r.${f.name}` : `(r.${f.name} << ${off})`);
    }
    const body = [
      ...words.map((parts, k) => (parts.length ? `w[${k}] = (${parts.join(' | ')}) >>> 0;` : `w[${k}] = 0;`)),
      ...spanning,
    ];
    const src = `return function (r, w) { ${body.join(' ')} };`;
    e = encoderBySource.get(src);
    if (!e) {
      if (encoderBySource.size > 256) encoderBySource.clear();
      e = (
        new Function('set', src) as (set: typeof setFieldBits) => (inst: Record<string, number>, w: Uint32Array) => void
      )(setFieldBits);
      encoderBySource.set(src, e);
    }
    encoders.set(layout, e);
  }
  return e;
}

/** Write a checked instruction's 16 little-endian bytes at out[offset]. */
function encodeInto(inst: Instruction, cfg: ArchConfig, out: Uint8Array, offset: number): void {
  const w = scratchWords;
  encoderOf(cachedLayout(cfg).get(inst.op)!)(inst as unknown as Record<string, number>, w);
  for (let k = 0; k < WORDS; k++) {
    const v = w[k]!;
    const o = offset + 4 * k;
    out[o] = v & 0xff;
    out[o + 1] = (v >>> 8) & 0xff;
    out[o + 2] = (v >>> 16) & 0xff;
    out[o + 3] = v >>> 24;
  }
}

/** Encode one instruction into 16 little-endian bytes. */
export function encodeInstruction(inst: Instruction, cfg: ArchConfig, where?: string): Uint8Array {
  checkInstruction(inst, cfg, where);
  const bytes = new Uint8Array(INSTRUCTION_BYTES);
  encodeInto(inst, cfg, bytes, 0);
  return bytes;
}

const decoders = new WeakMap<OpLayout, (w: Uint32Array) => Instruction>();
const decoderBySource = new Map<string, (w: Uint32Array) => Instruction>();

/**
 * One generated function per opcode layout that builds the decoded instruction as one object literal (op, the
 * flags, then the fields in table order). Not grown key by key: adding ~20 keyed stores to a five-property
 * literal put V8's object in dictionary mode, and every engine loop over a decoded program ran 5-10x slower than
 * over the compiler's objects (test/isa/decode-shape.test.ts checks the shape). One literal also allocates no
 * [key, value] pairs (Object.fromEntries did: most of a large program's decoding time went to them).
 */
function decoderOf(layout: OpLayout): (w: Uint32Array) => Instruction {
  let d = decoders.get(layout);
  if (!d) {
    // a field inside one 32-bit word is a shift and a mask; one that spans two goes through fieldBits
    const bits = (lsb: number, width: number) => {
      const off = lsb & 31;
      const k = lsb >>> 5;
      if (off + width > 32) return `bits(w, ${lsb}, ${width})`;
      return width === 32 ? `w[${k}]` : `((w[${k}] >>> ${off}) & ${2 ** width - 1})`;
    };
    const props = [
      `"op": ${JSON.stringify(layout.mnemonic)}`,
      ...DEP_FLAG_NAMES.map((f) => `${JSON.stringify(f)}: (w[0] >>> ${DEP_FLAG_BIT[f]}) & 1`),
      ...layout.fields.map((f) => `${JSON.stringify(f.name)}: ${bits(f.lsb, f.width)}`),
    ];
    const src = `return function (w) { return { ${props.join(', ')} }; };`;
    // one function per distinct layout, whichever config object it came from: one object shape per opcode
    d = decoderBySource.get(src);
    if (!d) {
      if (decoderBySource.size > 256) decoderBySource.clear();
      d = (new Function('bits', src) as (b: typeof fieldBits) => (w: Uint32Array) => Instruction)(fieldBits);
      decoderBySource.set(src, d);
    }
    decoders.set(layout, d);
  }
  return d;
}

/** Decode 16 bytes at `offset`. Throws IsaError (naming `where`) for an illegal opcode, out-of-range field or non-zero unused bits. */
export function decodeInstruction(
  bytes: Uint8Array,
  cfg: ArchConfig,
  offset = 0,
  where = `byte ${offset}`,
): Instruction {
  if (offset < 0 || offset + INSTRUCTION_BYTES > bytes.length) {
    throw new IsaError(
      `truncated instruction: need ${INSTRUCTION_BYTES} bytes, have ${Math.max(0, bytes.length - offset)}`,
      where,
    );
  }
  const w = scratchWords;
  for (let k = 0; k < WORDS; k++) {
    const o = offset + 4 * k;
    w[k] = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
  }
  const opcode = w[0]! & OPCODE_MASK;
  const def = OP_BY_OPCODE.get(opcode);
  if (!def) throw new IsaError(`illegal opcode ${opcode}`, where);
  const layout = cachedLayout(cfg).get(def.mnemonic)!;
  for (let k = 0; k < WORDS; k++) {
    const from = layout.usedBits - 32 * k; // the word's first unused bit
    if (from < 32 && (from <= 0 ? w[k] !== 0 : w[k]! >>> from !== 0))
      throw new IsaError(`${def.mnemonic}: unused bits [127:${layout.usedBits}] must be zero`, where);
  }
  const inst = decoderOf(layout)(w);
  checkInstruction(inst, cfg, where);
  return inst;
}

/** Encode a whole program's code section. */
export function encodeProgramCode(code: readonly Instruction[], cfg: ArchConfig): Uint8Array {
  const out = new Uint8Array(code.length * INSTRUCTION_BYTES);
  const legal = legalityTest(cfg);
  for (let i = 0; i < code.length; i++) {
    const inst = code[i]!;
    // the quick test once per instruction; the place is named only for one it does not pass
    if (!legal(inst)) checkInstruction(inst, cfg, `instruction ${i}`);
    encodeInto(inst, cfg, out, i * INSTRUCTION_BYTES);
  }
  return out;
}

export function decodeProgramCode(bytes: Uint8Array, cfg: ArchConfig): Instruction[] {
  if (bytes.length % INSTRUCTION_BYTES !== 0) {
    throw new IsaError(`code section is ${bytes.length} bytes, not a multiple of ${INSTRUCTION_BYTES}`, 'code');
  }
  const out: Instruction[] = [];
  for (let i = 0; i < bytes.length / INSTRUCTION_BYTES; i++) {
    out.push(decodeInstruction(bytes, cfg, i * INSTRUCTION_BYTES, `instruction ${i}`));
  }
  return out;
}
