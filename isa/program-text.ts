/**
 * Whole programs as assembly text: everything a .nbl program file holds
 * (docs/program-file.md), so `programText` then `assembleProgramText`
 * rebuilds a program whose file is identical byte for byte.
 *
 *     .config {...}                  the complete machine config, one line of JSON
 *     .config-hash 90b53b8444bdf957  checked against the config (a .config from before a field,
 *                                    BEFORE_FIELD, lacks it: the hash says which machine it is)
 *     .meta {...}                    provenance, one line of JSON (strings and numbers)
 *     .input  name=input dram=0x1000 shape=1x1x28x28 layout=nibble-planes bits=8 signed=0 image-stride=1600
 *     .output name=output ...        (same keys)
 *     .segment name=conv1.weights dram=0x0 size=1152 file=prog.data/0-conv1.weights.bin
 *     .segment name=conv1.params dram=0x480 size=128 hex
 *     .data 00ff10...                the hex segment's bytes, in order (any number of lines)
 *     .layer name=conv1 kind=conv2d macs=97344 instructions=58
 *     LOAD ...                       instructions (isa/assembly.ts)
 *
 * A `.layer` marks the next instruction as the layer's first (`first=N`
 * overrides that); directives may come in any order, but `.config` before
 * the first instruction. Values are decimal or 0x numbers, bare words, or
 * JSON strings ("any text"). Text without directives is a bare instruction
 * list for the config the caller gives.
 */
import {
  BEFORE_FIELD,
  canonicalConfigJson,
  configHash,
  resolveConfig,
  type ArchConfig,
  ConfigError,
  IsaError,
} from '../arch/index.js';
import { assembleLine, closestName, formatInstruction, parseNumber, tokenize } from './assembly.js';
import type { DramSegment, LayerInfo, Program, TensorDescriptor } from './program.js';
import type { Instruction } from './table.js';

export interface AssembleTextOptions {
  /** names the text in errors and in the program's source map */
  file?: string;
  /** the machine when the text has no `.config` (default: required then) */
  config?: ArchConfig;
  /** reads a segment's `file=` (the CLI resolves it next to the text); errors name `where` */
  readFile?: (path: string, where: string) => Uint8Array;
  /** the program's meta when the text has no `.meta` line (default {}) */
  defaultMeta?: Record<string, string | number>;
}

interface Token {
  text: string;
  col: number;
}

/** A line's content before its comment (`;` or `#` outside a JSON string) and where the content starts. */
function contentOf(raw: string): string {
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ';' || ch === '#') return raw.slice(0, i);
  }
  return raw;
}

/** Whitespace-separated tokens, a JSON string (spaces and all) staying inside its token. */
function directiveTokens(content: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < content.length) {
    while (i < content.length && /\s/.test(content[i]!)) i++;
    if (i >= content.length) break;
    const start = i;
    let quoted = false;
    for (; i < content.length && (quoted || !/\s/.test(content[i]!)); i++) {
      if (quoted && content[i] === '\\') i++;
      else if (content[i] === '"') quoted = !quoted;
    }
    out.push({ text: content.slice(start, i), col: start + 1 });
  }
  return out;
}

const WORD_RE = /^[A-Za-z0-9_.:@/+-]+$/;

/** A value as text: a bare word when it is one, else a JSON string. */
export function textValue(v: string): string {
  return WORD_RE.test(v) && parseNumber(v) === undefined ? v : JSON.stringify(v);
}

type Fields = Map<string, { value: string | undefined; col: number }>;

/** The `key=value` and bare-flag tokens of a directive; unknown or repeated keys are errors. */
function readFields(tokens: readonly Token[], keys: readonly string[], at: (col: number) => string): Fields {
  const out: Fields = new Map();
  for (const t of tokens) {
    const eq = t.text.indexOf('=');
    const key = eq < 0 ? t.text : t.text.slice(0, eq);
    if (!keys.includes(key)) {
      const guess = closestName(key, keys);
      throw new IsaError(
        `unknown key '${key}'${guess ? ` (did you mean ${guess}?)` : ''}; keys: ${keys.join(', ')}`,
        at(t.col),
      );
    }
    if (out.has(key)) throw new IsaError(`'${key}' given twice`, at(t.col));
    out.set(key, { value: eq < 0 ? undefined : t.text.slice(eq + 1), col: t.col + (eq < 0 ? 0 : eq + 1) });
  }
  return out;
}

/** Typed access to a directive's fields, errors naming the column. */
class FieldReader {
  constructor(
    readonly fields: Fields,
    readonly directive: string,
    readonly at: (col: number) => string,
    readonly lineAt: string,
  ) {}
  private need(key: string): { value: string; col: number } {
    const f = this.fields.get(key);
    if (!f) throw new IsaError(`${this.directive} needs ${key}=`, this.lineAt);
    if (f.value === undefined || f.value === '')
      throw new IsaError(`${key} needs a value (${key}=...)`, this.at(f.col));
    return { value: f.value, col: f.col };
  }
  has(key: string): boolean {
    return this.fields.has(key);
  }
  flag(key: string): boolean {
    const f = this.fields.get(key);
    if (f && f.value !== undefined) throw new IsaError(`${key} is a flag and takes no value`, this.at(f.col));
    return f !== undefined;
  }
  int(key: string): number {
    const { value, col } = this.need(key);
    const v = parseNumber(value);
    if (v === undefined) throw new IsaError(`${key}: bad number '${value}' (decimal or 0x hex)`, this.at(col));
    return v;
  }
  text(key: string): string {
    const { value, col } = this.need(key);
    if (!value.startsWith('"')) return value;
    try {
      const v: unknown = JSON.parse(value);
      if (typeof v === 'string') return v;
    } catch {
      // reported below
    }
    throw new IsaError(`${key}: ${value} is not a JSON string`, this.at(col));
  }
  choice<T extends string>(key: string, options: readonly T[]): T {
    const v = this.text(key);
    if (!(options as readonly string[]).includes(v))
      throw new IsaError(`${key} must be one of ${options.join(', ')}, got '${v}'`, this.at(this.fields.get(key)!.col));
    return v as T;
  }
}

const TENSOR_KEYS = ['name', 'dram', 'shape', 'layout', 'bits', 'signed', 'image-stride'] as const;
const SEGMENT_KEYS = ['name', 'dram', 'size', 'file', 'hex'] as const;
const LAYER_KEYS = ['name', 'kind', 'macs', 'instructions', 'first'] as const;

function readTensor(r: FieldReader): TensorDescriptor {
  const shapeText = r.text('shape');
  const shape = shapeText.split('x').map((x) => parseNumber(x));
  if (shape.length !== 4 || shape.some((x) => x === undefined))
    throw new IsaError(`shape must be NxCxHxW, got '${shapeText}'`, r.at(r.fields.get('shape')!.col));
  const signed = r.int('signed');
  if (signed !== 0 && signed !== 1)
    throw new IsaError(`signed must be 0 or 1, got ${signed}`, r.at(r.fields.get('signed')!.col));
  return {
    name: r.text('name'),
    dramAddr: r.int('dram'),
    shape: shape as [number, number, number, number],
    layout: r.choice('layout', ['blocked', 'nibble-planes', 'nibble-lanes'] as const),
    bits: r.int('bits'),
    signed: signed === 1,
    imageStrideBytes: r.int('image-stride'),
  };
}

/** What the text has built so far. */
/** How assembleProgramText reads a `.config`: options, and whether a field it lacks takes its BEFORE_FIELD value. */
interface ReadOptions extends AssembleTextOptions {
  beforeFields?: boolean;
}

/**
 * The `.config` object with the BEFORE_FIELD values of the fields it lacks
 * (a text written before them), or undefined when it names them all.
 */
function withBeforeFields(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const missing = Object.entries(BEFORE_FIELD).filter(([k]) => !(k in raw));
  return missing.length ? { ...Object.fromEntries(missing), ...raw } : undefined;
}

class TextProgram {
  config: ArchConfig | undefined;
  /** the `.config` line's JSON */
  configJson: unknown;
  hash: { value: string; at: string } | undefined;
  meta: Record<string, string | number> | undefined;
  readonly inputs: TensorDescriptor[] = [];
  readonly outputs: TensorDescriptor[] = [];
  readonly segments: DramSegment[] = [];
  readonly layers: (LayerInfo & { at: string })[] = [];
  readonly code: Instruction[] = [];
  readonly lines: number[] = [];
  /** the hex segment whose .data lines are being read, and how many bytes they gave */
  hex: { seg: DramSegment; filled: number; at: string } | undefined;
  readonly once = new Set<string>();

  finishHex(): void {
    const h = this.hex;
    if (h && h.filled !== h.seg.bytes.length)
      throw new IsaError(
        `segment '${h.seg.name}' declares ${h.seg.bytes.length} bytes but its .data lines give ${h.filled}`,
        h.at,
      );
    this.hex = undefined;
  }
}

/** The JSON after a directive's name. */
function jsonPayload(content: string, name: string, at: string): unknown {
  const json = content.slice(content.indexOf(name) + name.length).trim();
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new IsaError(`${name} needs one line of JSON: ${(e as Error).message}`, at);
  }
}

type Directive = (
  p: TextProgram,
  tokens: Token[],
  content: string,
  at: (col: number) => string,
  opts: ReadOptions,
) => void;

const DIRECTIVES: Record<string, Directive> = {
  '.config'(p, tokens, content, at, opts) {
    if (p.code.length)
      throw new IsaError('.config must come before the first instruction (field widths follow it)', at(1));
    try {
      p.configJson = jsonPayload(content, '.config', at(1));
      p.config = resolveConfig((opts.beforeFields && withBeforeFields(p.configJson)) || p.configJson);
    } catch (e) {
      // the field's error, at the line
      if (e instanceof ConfigError) throw new ConfigError(e.message, at(tokens[0]!.col));
      throw e;
    }
  },
  '.config-hash'(p, tokens, _c, at) {
    const v = tokens[1]?.text;
    if (!v || !/^[0-9a-f]{16}$/.test(v) || tokens.length > 2)
      throw new IsaError('.config-hash needs the 16 hex digits of configHash(config)', at(1));
    p.hash = { value: v, at: at(tokens[1]!.col) };
  },
  '.meta'(p, _t, content, at) {
    const v = jsonPayload(content, '.meta', at(1));
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new IsaError('.meta needs a JSON object of strings and numbers', at(1));
    for (const [k, x] of Object.entries(v))
      if (typeof x !== 'string' && typeof x !== 'number')
        throw new IsaError(`.meta ${k}: must be a string or a number, got ${JSON.stringify(x)}`, at(1));
    p.meta = v as Record<string, string | number>;
  },
  '.input'(p, tokens, _c, at) {
    p.inputs.push(readTensor(new FieldReader(readFields(tokens.slice(1), TENSOR_KEYS, at), '.input', at, at(1))));
  },
  '.output'(p, tokens, _c, at) {
    p.outputs.push(readTensor(new FieldReader(readFields(tokens.slice(1), TENSOR_KEYS, at), '.output', at, at(1))));
  },
  '.segment'(p, tokens, _c, at, opts) {
    const r = new FieldReader(readFields(tokens.slice(1), SEGMENT_KEYS, at), '.segment', at, at(1));
    const name = r.text('name');
    const dramAddr = r.int('dram');
    const size = r.int('size');
    const hex = r.flag('hex');
    if (hex === r.has('file'))
      throw new IsaError(`segment '${name}': give either file=PATH or hex (then .data lines)`, at(1));
    if (hex) {
      const seg = { name, dramAddr, bytes: new Uint8Array(size) };
      p.segments.push(seg);
      p.hex = { seg, filled: 0, at: at(1) };
      return;
    }
    const path = r.text('file');
    if (!opts.readFile) throw new IsaError(`segment '${name}': file=${path} cannot be read here`, at(1));
    const bytes = opts.readFile(path, at(r.fields.get('file')!.col));
    if (bytes.length !== size)
      throw new IsaError(
        `segment '${name}': size=${size} but ${path} has ${bytes.length} bytes`,
        at(r.fields.get('file')!.col),
      );
    p.segments.push({ name, dramAddr, bytes });
  },
  '.layer'(p, tokens, _c, at) {
    const r = new FieldReader(readFields(tokens.slice(1), LAYER_KEYS, at), '.layer', at, at(1));
    const first = r.has('first') ? r.int('first') : p.code.length;
    p.layers.push({
      name: r.text('name'),
      kind: r.text('kind'),
      macs: r.int('macs'),
      firstInstruction: first,
      lastInstruction: first + r.int('instructions') - 1,
      at: at(1),
    });
  },
};

/** One directive line: `.data` feeds the open hex segment, any other closes it first. */
function directive(p: TextProgram, content: string, at: (col: number) => string, opts: AssembleTextOptions): void {
  // .data lines are most of a big program's text: read them without the general tokenizer
  if (/^\.data(?:\s|$)/.test(content)) {
    if (!p.hex) throw new IsaError('.data belongs after a `.segment ... hex` line', at(1));
    const rest = content.slice(5);
    const hex = rest.replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex))
      throw new IsaError('.data needs pairs of hex digits', at(6 + Math.max(0, rest.search(/\S/))));
    const { seg } = p.hex;
    if (p.hex.filled + hex.length / 2 > seg.bytes.length)
      throw new IsaError(`segment '${seg.name}' has ${seg.bytes.length} bytes; this .data line goes past them`, at(1));
    seg.bytes.set(Buffer.from(hex, 'hex'), p.hex.filled);
    p.hex.filled += hex.length / 2;
    return;
  }
  const tokens = directiveTokens(content);
  const name = tokens[0]!.text;
  p.finishHex();
  const handler = Object.hasOwn(DIRECTIVES, name) ? DIRECTIVES[name] : undefined;
  if (!handler) {
    const guess = closestName(name, Object.keys(DIRECTIVES));
    throw new IsaError(
      `unknown directive '${name}'${guess ? ` (did you mean ${guess}?)` : ''}; known: ${[...Object.keys(DIRECTIVES), '.data'].join(', ')}`,
      at(1),
    );
  }
  if (['.config', '.config-hash', '.meta'].includes(name)) {
    if (p.once.has(name)) throw new IsaError(`${name} given twice`, at(1));
    p.once.add(name);
  }
  handler(p, tokens, content, at, opts);
}

/**
 * Assemble program text into a whole Program (with its source map). Errors
 * are IsaErrors naming `file:line:col`. The program's cross-checks (segments
 * and tensors inside DRAM, disjoint, layers inside the code) are the program
 * file writer's, which the caller runs when it writes the file.
 */
export function assembleProgramText(text: string, opts: AssembleTextOptions = {}): Program {
  return assembleText(text, opts);
}

function assembleText(text: string, opts: ReadOptions): Program {
  const file = opts.file ?? '<input>';
  const p = new TextProgram();
  text.split(/\r?\n/).forEach((raw, i) => {
    const content = contentOf(raw);
    const at = (col: number) => `${file}:${i + 1}:${col}`;
    if (/^\s*\./.test(content))
      return directive(p, content.trimStart(), (c) => at(c + content.length - content.trimStart().length), opts);
    const tokens = tokenize(content);
    if (!tokens.length) return;
    p.finishHex();
    const cfg = p.config ?? opts.config;
    if (!cfg)
      throw new IsaError('no machine config: add a .config line before the first instruction, or give one', at(1));
    p.code.push(assembleLine(tokens, cfg, at));
    p.lines.push(i + 1);
  });
  p.finishHex();
  const config = p.config ?? opts.config;
  if (!config) throw new IsaError('no machine config: add a .config line, or give one', file);
  const hash = configHash(config);
  if (p.hash && p.hash.value !== hash) {
    // a text from before a config field: its full .config lacks the field, and its hash is the machine
    // without it (BEFORE_FIELD); assembled again as that machine (field checks included)
    const before = opts.beforeFields ? undefined : withBeforeFields(p.configJson);
    if (before && configHash(resolveConfig(before)) === p.hash.value)
      return assembleText(text, { ...opts, beforeFields: true });
    throw new IsaError(
      p.config
        ? `.config-hash ${p.hash.value} does not match the .config (hash ${hash})`
        : `the text was written for config hash ${p.hash.value} but the config in use hashes to ${hash}: give that config or a .config line`,
      p.hash.at,
    );
  }
  return {
    config,
    configHash: hash,
    code: p.code,
    segments: p.segments,
    inputs: p.inputs,
    outputs: p.outputs,
    layers: p.layers.map(({ at: _at, ...l }) => l),
    meta: p.meta ?? opts.defaultMeta ?? {},
    source: { file, lines: p.lines },
  };
}

export interface ProgramTextOptions {
  /** data segments as `.data` hex lines (default) or as binary files named `<dataDir>/<i>-<name>.bin` */
  data?: 'hex' | 'files';
  /** the directory prefix of segment files in the text (data: 'files') */
  dataDir?: string;
  /** append `; [index]` to every instruction */
  indices?: boolean;
}

/** Bytes per `.data` line. */
const HEX_LINE_BYTES = 32;

/** A segment's file name: its index and name, with anything unusual replaced. */
function segmentFileName(i: number, name: string): string {
  return `${i}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.bin`;
}

/**
 * The program as assembly text that assembleProgramText turns back into the
 * same program (the same .nbl bytes), and the segment files to write beside
 * it when data is 'files' (paths as the text names them).
 */
export function programText(
  program: Program,
  opts: ProgramTextOptions = {},
): { text: string; files: { path: string; bytes: Uint8Array }[] } {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const lines: string[] = [];
  const files: { path: string; bytes: Uint8Array }[] = [];
  const model = program.meta['model'];
  lines.push(
    `; nibble program${model !== undefined ? ` '${String(model)}'` : ''}: ${program.code.length} instructions`,
  );
  // the canonical JSON leaves out fields at their before-value (BEFORE_FIELD); a .config is merged over the
  // defaults, so they are written out
  const full = { ...(JSON.parse(canonicalConfigJson(program.config)) as object) } as Record<string, unknown>;
  for (const k of Object.keys(BEFORE_FIELD)) full[k] = (program.config as unknown as Record<string, unknown>)[k];
  lines.push(`.config ${JSON.stringify(full)}`);
  lines.push(`.config-hash ${program.configHash}`);
  lines.push(`.meta ${JSON.stringify(program.meta)}`);
  const tensor = (d: string, t: TensorDescriptor) =>
    `${d} name=${textValue(t.name)} dram=${hex(t.dramAddr)} shape=${t.shape.join('x')} layout=${t.layout} bits=${t.bits} signed=${t.signed ? 1 : 0} image-stride=${t.imageStrideBytes}`;
  for (const t of program.inputs) lines.push(tensor('.input', t));
  for (const t of program.outputs) lines.push(tensor('.output', t));
  program.segments.forEach((s, i) => {
    const head = `.segment name=${textValue(s.name)} dram=${hex(s.dramAddr)} size=${s.bytes.length}`;
    if (opts.data === 'files') {
      const path = `${opts.dataDir ?? '.'}/${segmentFileName(i, s.name)}`;
      files.push({ path, bytes: s.bytes });
      lines.push(`${head} file=${textValue(path)}`);
      return;
    }
    lines.push(`${head} hex`);
    for (let b = 0; b < s.bytes.length; b += HEX_LINE_BYTES)
      lines.push(`.data ${Buffer.from(s.bytes.subarray(b, b + HEX_LINE_BYTES)).toString('hex')}`);
  });
  // layer markers where their first instruction is, in table order; one that starts before an earlier one names it
  const markers = new Map<number, string[]>();
  let cursor = 0;
  for (const l of program.layers) {
    const placed = l.firstInstruction >= cursor && l.firstInstruction <= program.code.length;
    const at = placed ? l.firstInstruction : cursor;
    cursor = at;
    const line = `.layer name=${textValue(l.name)} kind=${textValue(l.kind)} macs=${l.macs} instructions=${l.lastInstruction - l.firstInstruction + 1}${placed ? '' : ` first=${l.firstInstruction}`}`;
    markers.set(at, [...(markers.get(at) ?? []), line]);
  }
  program.code.forEach((inst, i) => {
    lines.push(...(markers.get(i) ?? []));
    const text = formatInstruction(inst, program.config);
    lines.push(opts.indices ? `${text}  ; [${i}]` : text);
  });
  lines.push(...(markers.get(program.code.length) ?? []));
  return { text: `${lines.join('\n')}\n`, files };
}
