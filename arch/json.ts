/**
 * The strict JSON reader behind every JSON file nibble reads (configs, models,
 * energy tables, synthesis results, input tensors). On top of RFC 8259 it
 * rejects duplicate keys (JSON.parse keeps the last one silently, other tools
 * the first: a file must not mean two things), bounds the nesting depth (so no
 * reader downstream can overflow the stack), and places every error at
 * `file:line:col`. The native JSON.parse checks the grammar and builds the
 * value; a light structural scan then checks keys and depth. Only a document
 * either rejects goes through the full non-recursive validator, which finds
 * and places the first problem, so a 500 MB model stays fast.
 */
import { NibbleError } from './errors.js';

/** Deepest nesting of arrays and objects accepted by default. */
export const JSON_MAX_DEPTH = 256;

export interface JsonReadOptions {
  /** deepest nesting of arrays/objects (default JSON_MAX_DEPTH) */
  maxDepth?: number;
}

/** The error class a caller wants its file's problems reported as (ConfigError, ModelError, ...). */
export type ErrorClass = new (message: string, where?: string) => NibbleError;

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

/** A character as a message shows it: printable ones quoted, others by code point. */
function showChar(text: string, at: number): string {
  if (at >= text.length) return 'the end of the file';
  const c = text.codePointAt(at)!;
  if (c === 0) return 'a NUL byte (is this a binary file?)';
  if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0))
    return `the control character U+${c.toString(16).padStart(4, '0')}`;
  return `'${String.fromCodePoint(c)}'`;
}

interface Level {
  /** keys seen so far (objects), undefined for arrays */
  keys: Set<string> | undefined;
  /** the key or index being read, for the path in messages */
  at: string | number;
}

function pathOf(stack: readonly Level[]): string {
  let p = '';
  for (const l of stack) p += typeof l.at === 'number' ? `[${l.at}]` : p === '' ? l.at : `.${l.at}`;
  return p === '' ? 'the top-level value' : p;
}

class JsonSyntax {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const enum Expect {
  Value,
  ValueOrClose, // after '['
  KeyOrClose, // after '{'
  Key, // after ',' in an object
  Colon,
  After, // after a value
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Index just past the string starting at `i` (a '"'); throws JsonSyntax. */
function scanString(text: string, i: number): { end: number; escaped: boolean } {
  const n = text.length;
  let escaped = false;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 34) return { end: j + 1, escaped };
    if (c === 92) {
      escaped = true;
      const e = text.charCodeAt(j + 1);
      if (e === 117) {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6)))
          throw new JsonSyntax(j, 'a \\u escape needs four hexadecimal digits');
        j += 5;
      } else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        j++;
      } else throw new JsonSyntax(j, `invalid escape '\\${text[j + 1] ?? ''}' in a string`);
    } else if (c < 0x20) {
      throw new JsonSyntax(j, `${showChar(text, j)} inside a string (write it as an escape such as \\n)`);
    }
  }
  throw new JsonSyntax(i, 'a string that is never closed (is the file truncated?)');
}

/** Index just past the number starting at `i`; throws JsonSyntax. */
function scanNumber(text: string, i: number): number {
  const start = i;
  if (text.charCodeAt(i) === 45) i++;
  const bad = (why: string): never => {
    throw new JsonSyntax(start, `invalid number '${text.slice(start, Math.min(i + 1, start + 24))}': ${why}`);
  };
  if (text.charCodeAt(i) === 48) {
    i++;
    if (isDigit(text.charCodeAt(i))) bad('no leading zeros');
  } else if (isDigit(text.charCodeAt(i))) {
    while (isDigit(text.charCodeAt(i))) i++;
  } else bad('expected a digit');
  if (text.charCodeAt(i) === 46) {
    i++;
    if (!isDigit(text.charCodeAt(i))) bad('expected a digit after the decimal point');
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const s = text.charCodeAt(i);
    if (s === 43 || s === 45) i++;
    if (!isDigit(text.charCodeAt(i))) bad('expected a digit in the exponent');
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/** Throws JsonSyntax at the first problem; returns normally for a strict, well-formed document. */
function validate(text: string, maxDepth: number): void {
  const n = text.length;
  const stack: Level[] = [];
  let state: Expect = Expect.Value;
  let afterComma = false;
  let i = 0;
  for (;;) {
    let c = text.charCodeAt(i);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
    if (i >= n) {
      if (state === Expect.After && stack.length === 0) return;
      throw new JsonSyntax(i, 'unexpected end of the file (is it truncated?)');
    }
    switch (state) {
      case Expect.Value:
      case Expect.ValueOrClose:
        if (c === 93 && state === Expect.ValueOrClose) {
          stack.pop();
          state = Expect.After;
          i++;
        } else if (c === 123 || c === 91) {
          if (stack.length >= maxDepth)
            throw new JsonSyntax(i, `nested deeper than ${maxDepth} levels of arrays and objects`);
          stack.push({ keys: c === 123 ? new Set() : undefined, at: c === 123 ? '' : 0 });
          state = c === 123 ? Expect.KeyOrClose : Expect.ValueOrClose;
          i++;
        } else if (c === 34) {
          i = scanString(text, i).end;
          state = Expect.After;
        } else if (c === 45 || isDigit(c)) {
          i = scanNumber(text, i);
          state = Expect.After;
        } else {
          const word = c === 116 ? 'true' : c === 102 ? 'false' : c === 110 ? 'null' : undefined;
          if (word !== undefined && text.startsWith(word, i)) {
            i += word.length;
            state = Expect.After;
          } else if (afterComma && (c === 93 || c === 125)) {
            throw new JsonSyntax(i, `a trailing comma before ${showChar(text, i)}`);
          } else throw new JsonSyntax(i, `expected a value, got ${showChar(text, i)}`);
        }
        break;
      case Expect.KeyOrClose:
      case Expect.Key:
        if (c === 125 && state === Expect.KeyOrClose) {
          stack.pop();
          state = Expect.After;
          i++;
        } else if (c === 34) {
          const s = scanString(text, i);
          const raw = text.slice(i + 1, s.end - 1);
          const key = s.escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
          const top = stack[stack.length - 1]!;
          if (top.keys!.has(key))
            throw new JsonSyntax(
              i,
              `duplicate key ${JSON.stringify(key)} in ${stack.length > 1 ? pathOf(stack.slice(0, -1)) : 'the top-level object'} (a key may appear only once)`,
            );
          top.keys!.add(key);
          top.at = key;
          i = s.end;
          state = Expect.Colon;
        } else if (afterComma && c === 125) {
          throw new JsonSyntax(i, "a trailing comma before '}'");
        } else throw new JsonSyntax(i, `expected a key in double quotes, got ${showChar(text, i)}`);
        break;
      case Expect.Colon:
        if (c !== 58) throw new JsonSyntax(i, `expected ':' after the key, got ${showChar(text, i)}`);
        state = Expect.Value;
        i++;
        break;
      case Expect.After: {
        const top = stack[stack.length - 1];
        if (!top) throw new JsonSyntax(i, `unexpected ${showChar(text, i)} after the end of the JSON value`);
        const close = top.keys ? 125 : 93;
        if (c === 44) {
          if (!top.keys) top.at = (top.at as number) + 1;
          state = top.keys ? Expect.Key : Expect.Value;
          afterComma = true;
          i++;
          continue;
        }
        if (c !== close)
          throw new JsonSyntax(
            i,
            `expected ',' or '${top.keys ? '}' : ']'}' after ${pathOf(stack)}, got ${showChar(text, i)}`,
          );
        stack.pop();
        i++;
        break;
      }
    }
    afterComma = false;
  }
}

/**
 * For a document JSON.parse accepted (so its grammar is right): true when an
 * object repeats a key or the nesting is deeper than maxDepth. Looks only at
 * strings and brackets; the full validator then names the problem.
 */
function hasKeyOrDepthProblem(text: string, maxDepth: number): boolean {
  // per open level: its keys (objects) or undefined (arrays)
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  // the next character that matters, found by the regular-expression engine (numbers fill most of a model):
  // in an array brackets and quotes, elsewhere commas too (they start the next key)
  const inArray = /["{}[\]]/g;
  const elsewhere = /["{}[\],]/g;
  const stringEnd = /["\\]/g;
  for (let i = 0; ; i++) {
    const next = stack.length > 0 && stack[stack.length - 1] === undefined ? inArray : elsewhere;
    next.lastIndex = i;
    if (!next.exec(text)) return false;
    i = next.lastIndex - 1;
    const c = text.charCodeAt(i);
    if (c === 34) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        stringEnd.lastIndex = j;
        if (!stringEnd.exec(text)) return true;
        j = stringEnd.lastIndex - 1;
        if (text.charCodeAt(j) === 34) break;
        escaped = true;
        j += 2;
      }
      if (expectKey) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 123 || c === 91) {
      if (stack.length >= maxDepth) return true;
      stack.push(c === 123 ? new Set() : undefined);
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      stack.pop();
      expectKey = false;
    } else if (c === 44) {
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
}

/**
 * Parse `text` strictly. Problems are thrown as `errorClass` with where =
 * `source:line:col`. A leading byte-order mark is ignored.
 */
export function parseJsonStrict(
  text: string,
  source: string,
  errorClass: ErrorClass = NibbleError,
  opts: JsonReadOptions = {},
): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const maxDepth = opts.maxDepth ?? JSON_MAX_DEPTH;
  let value: unknown;
  let parseError: unknown;
  try {
    value = JSON.parse(body) as unknown;
    if (!hasKeyOrDepthProblem(body, maxDepth)) return value;
  } catch (e) {
    // the validator below names the problem (or, for a valid document, this was a resource limit)
    parseError = e;
  }
  try {
    validate(body, maxDepth);
  } catch (e) {
    if (!(e instanceof JsonSyntax)) throw e;
    const { line, col } = lineColumn(body, e.offset);
    throw new errorClass(`not valid JSON: ${e.reason}`, `${source}:${line}:${col}`);
  }
  if (parseError !== undefined) throw parseError;
  return value;
}
