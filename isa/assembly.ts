/**
 * Assembly text <-> instructions. One instruction per line:
 *
 *     MNEMONIC [pop_prev] [pop_next] [push_prev] [push_next] field=value ...
 *
 * Every field of the opcode is required (no silent defaults: a forgotten field
 * is a bug); dependency flags default to 0. Values are decimal or 0x hex; enum
 * fields also take their names. `;` or `#` start a comment. The disassembler's
 * output re-assembles to the identical bits.
 */
import type { ArchConfig } from '../arch/index.js';
import { closestName, IsaError } from '../arch/index.js';
import { checkInstruction, isaLayout, type FieldLayout, type OpLayout } from './encoding.js';
import type { LayerInfo } from './program.js';
import { MNEMONICS, unitOf, type Instruction, type Mnemonic } from './table.js';
import { DEP_FLAG_NAMES, depFlagError, type DepFlagName } from './word.js';

/** Re-exported from arch/ (one implementation for every did-you-mean). */
export { closestName };

export interface Token {
  text: string;
  /** 1-based column */
  col: number;
}

const layoutCache = new WeakMap<ArchConfig, Map<Mnemonic, OpLayout>>();
function layoutFor(cfg: ArchConfig): Map<Mnemonic, OpLayout> {
  let l = layoutCache.get(cfg);
  if (!l) {
    l = isaLayout(cfg);
    layoutCache.set(cfg, l);
  }
  return l;
}

/** Split a line (comment already removed) into whitespace-separated tokens with their columns. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[0], col: m.index + 1 });
  return out;
}

const NUMBER_RE = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/;

export function parseNumber(text: string): number | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  const v = Number(text);
  return Number.isSafeInteger(v) ? v : undefined;
}

function rangeText(f: FieldLayout): string {
  const names = f.enumNames ? ` (${f.enumNames.map((n, i) => `${n}=${i}`).join(', ')})` : '';
  return `[${f.min}, ${f.max}] (${f.width}-bit field)${names}`;
}

/** One instruction line (comment removed, tokenized); errors name `at(column)`. */
export function assembleLine(tokens: Token[], cfg: ArchConfig, at: (col: number) => string): Instruction {
  const layouts = layoutFor(cfg);
  const head = tokens[0]!;
  const mnemonic = MNEMONICS.find((m) => m === head.text.toUpperCase());
  if (!mnemonic) {
    const guess = closestName(head.text.toUpperCase(), MNEMONICS);
    throw new IsaError(
      `unknown mnemonic '${head.text}'${guess ? ` (did you mean ${guess}?)` : ''}; known: ${MNEMONICS.join(', ')}`,
      at(head.col),
    );
  }
  const layout = layouts.get(mnemonic)!;
  const fieldByName = new Map(layout.fields.map((f) => [f.name, f]));
  const rec: Record<string, number | string> = { op: mnemonic, pop_prev: 0, pop_next: 0, push_prev: 0, push_next: 0 };
  const flagCol = new Map<DepFlagName, number>();
  const seen = new Map<string, number>();
  const validFields = () =>
    layout.fields.length ? layout.fields.map((f) => f.name).join(', ') : `none: ${mnemonic} has no fields`;

  for (const tok of tokens.slice(1)) {
    const eq = tok.text.indexOf('=');
    const name = eq < 0 ? tok.text : tok.text.slice(0, eq);
    const valueText = eq < 0 ? undefined : tok.text.slice(eq + 1);
    const isFlag = (DEP_FLAG_NAMES as readonly string[]).includes(name);
    if (eq < 0 && !isFlag) {
      const guess = closestName(name, [...DEP_FLAG_NAMES, ...layout.fields.map((f) => f.name)]);
      throw new IsaError(
        `unexpected '${tok.text}': expected field=value or a dependency flag (${DEP_FLAG_NAMES.join(', ')})` +
          (guess ? `; did you mean ${guess}?` : ''),
        at(tok.col),
      );
    }
    if (name === '' || valueText === '' || (valueText !== undefined && valueText.includes('='))) {
      throw new IsaError(`malformed '${tok.text}': expected field=value with no spaces around '='`, at(tok.col));
    }
    if (seen.has(name)) {
      throw new IsaError(
        `duplicate ${isFlag ? 'flag' : 'field'} '${name}' (first given at column ${seen.get(name)})`,
        at(tok.col),
      );
    }
    seen.set(name, tok.col);
    if (isFlag) {
      let v = 1;
      if (valueText !== undefined) {
        if (valueText !== '0' && valueText !== '1') {
          throw new IsaError(`flag ${name} must be 0 or 1, got '${valueText}'`, at(tok.col + name.length + 1));
        }
        v = Number(valueText);
      }
      rec[name] = v;
      flagCol.set(name as DepFlagName, tok.col);
      continue;
    }
    const f = fieldByName.get(name);
    if (!f) {
      const guess = closestName(
        name,
        layout.fields.map((x) => x.name),
      );
      throw new IsaError(
        `${mnemonic} has no field '${name}'${guess ? ` (did you mean ${guess}?)` : ''}; valid fields: ${validFields()}`,
        at(tok.col),
      );
    }
    const valueCol = tok.col + name.length + 1;
    let v: number | undefined;
    if (f.enumNames) {
      const idx = f.enumNames.indexOf(valueText!.toLowerCase());
      v = idx >= 0 ? idx : parseNumber(valueText!);
      if (v === undefined) {
        throw new IsaError(
          `${mnemonic}.${name}: '${valueText}' is not one of ${f.enumNames.join(', ')} or a number`,
          at(valueCol),
        );
      }
    } else {
      v = parseNumber(valueText!);
      if (v === undefined && NUMBER_RE.test(valueText!)) v = Infinity; // well-formed but huge: report the range
      if (v === undefined) {
        throw new IsaError(`${mnemonic}.${name}: bad number '${valueText}' (decimal or 0x hex)`, at(valueCol));
      }
    }
    if (v < f.min || v > f.max) {
      throw new IsaError(`${mnemonic}.${name} = ${valueText} is out of range ${rangeText(f)}`, at(valueCol));
    }
    rec[name] = v;
  }
  const missing = layout.fields.filter((f) => !seen.has(f.name)).map((f) => f.name);
  if (missing.length) {
    throw new IsaError(
      `${mnemonic} is missing field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (all fields are required)`,
      at(head.col),
    );
  }

  // Dependency flags must name a neighbour the executing unit actually has.
  const inst = rec as unknown as Instruction;
  const unit = unitOf(inst);
  for (const [flag, col] of flagCol) {
    const problem = rec[flag] ? depFlagError(mnemonic, unit, flag) : undefined;
    if (problem) throw new IsaError(problem, at(col));
  }
  checkInstruction(inst, cfg, at(head.col));
  return inst;
}

/**
 * Assemble the instructions of program text (directive lines, `.name ...`,
 * are skipped: isa/program-text.ts reads them). Throws IsaError with
 * `file:line:col: reason` (col of the offending token) for the first error.
 */
export function assembleProgram(text: string, cfg: ArchConfig, file = '<input>'): Instruction[] {
  const out: Instruction[] = [];
  forEachInstructionLine(text, (tokens, i) => out.push(assembleLine(tokens, cfg, (col) => `${file}:${i + 1}:${col}`)));
  return out;
}

/**
 * The 1-based source line of every instruction `assembleProgram` produces, in
 * order: lets whole-program checks (the token checker) name `file:line`.
 */
export function assemblySourceLines(text: string): number[] {
  const lines: number[] = [];
  forEachInstructionLine(text, (_tokens, i) => lines.push(i + 1));
  return lines;
}

function forEachInstructionLine(
  text: string,
  visit: (tokens: ReturnType<typeof tokenize>, lineIndex: number) => void,
): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const cut = raw.search(/[;#]/);
    const tokens = tokenize(cut < 0 ? raw : raw.slice(0, cut));
    if (tokens.length && !tokens[0]!.text.startsWith('.')) visit(tokens, i);
  });
}

export interface DisassembleOptions {
  /** append `; [index]` to every line */
  indices?: boolean;
  /** emit a `; layer <name> (<kind>)` header before each layer's first instruction */
  layers?: readonly LayerInfo[];
  /** fields printed in hex (default: dram_addr) */
  hexFields?: readonly string[];
}

/** Format one instruction as a line of assembly (no comment). */
export function formatInstruction(
  inst: Instruction,
  cfg: ArchConfig,
  hexFields: readonly string[] = ['dram_addr'],
): string {
  const layout = layoutFor(cfg).get(inst.op);
  if (!layout) throw new IsaError(`unknown operation '${String((inst as { op: unknown }).op)}'`);
  const rec = inst as unknown as Record<string, number>;
  const parts: string[] = [inst.op];
  for (const flag of DEP_FLAG_NAMES) if (rec[flag]) parts.push(flag);
  for (const f of layout.fields) {
    const v = rec[f.name]!;
    const text = f.enumNames ? f.enumNames[v]! : hexFields.includes(f.name) ? `0x${v.toString(16)}` : String(v);
    parts.push(`${f.name}=${text}`);
  }
  return parts.join(' ');
}

/** Disassemble to text that assembleProgram turns back into identical instructions. */
export function disassembleProgram(
  code: readonly Instruction[],
  cfg: ArchConfig,
  opts: DisassembleOptions = {},
): string {
  const headers = new Map<number, LayerInfo[]>();
  for (const l of opts.layers ?? []) {
    const list = headers.get(l.firstInstruction) ?? [];
    list.push(l);
    headers.set(l.firstInstruction, list);
  }
  const lines: string[] = [];
  code.forEach((inst, i) => {
    checkInstruction(inst, cfg, `instruction ${i}`);
    for (const l of headers.get(i) ?? []) lines.push(`; layer ${l.name} (${l.kind})`);
    const text = formatInstruction(inst, cfg, opts.hexFields);
    lines.push(opts.indices ? `${text}  ; [${i}]` : text);
  });
  // Layers that start after the last instruction (e.g. instruction-less layers at the end).
  for (const [first, list] of headers)
    if (first >= code.length) for (const l of list) lines.push(`; layer ${l.name} (${l.kind})`);
  return lines.length ? lines.join('\n') + '\n' : '';
}
