/** io/: all-or-none outputs (with an injected full disk), safe inputs, and the strict JSON reader. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NibbleError, parseJsonStrict } from '../../arch/index.js';
import {
  FileError,
  NODE_OUTPUT_FS,
  readInputBytes,
  readInputText,
  writeOutputs,
  type OutputFs,
} from '../../io/index.js';
import { thrownMessage } from '../thrown.js';

const tmp = mkdtempSync(join(tmpdir(), 'nibble-io-'));
const noTemps = (dir: string) => expect(readdirSync(dir).filter((f) => f.includes('nibble-tmp'))).toEqual([]);

/** A disk that fills up after `budget` bytes. */
function fullDiskAfter(budget: number): OutputFs {
  let used = 0;
  return {
    ...NODE_OUTPUT_FS,
    writeNewFile(path, data) {
      used += typeof data === 'string' ? Buffer.byteLength(data) : data instanceof Uint8Array ? data.length : 0;
      if (used > budget) {
        // like a real full disk, the file exists (partly written) when write() fails
        writeFileSync(path, '');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      NODE_OUTPUT_FS.writeNewFile(path, data);
    },
  };
}

describe('writeOutputs: all outputs or none', () => {
  it('a full disk on the second file leaves the first file as it was, and no temporary files', () => {
    const d = join(tmp, 'enospc');
    mkdirSync(d);
    writeFileSync(join(d, 'a.nbl'), 'old program');
    const msg = thrownMessage(
      () =>
        writeOutputs(
          {
            files: [
              { path: join(d, 'a.nbl'), data: 'new program' },
              { path: join(d, 'a.s'), data: 'x'.repeat(100) },
            ],
          },
          fullDiskAfter(50),
        ),
      FileError,
    );
    expect(msg).toBe(`${join(d, 'a.s')}: cannot write: no space left on the device (ENOSPC); no output was written`);
    expect(readFileSync(join(d, 'a.nbl'), 'utf8')).toBe('old program');
    expect(readdirSync(d)).toEqual(['a.nbl']);
  });

  it('a directory output that does not fit appears not at all; a rewrite that does not fit keeps every old file', () => {
    const parent = join(tmp, 'dirs');
    mkdirSync(parent);
    const files = [
      { name: 'a.v', data: 'a'.repeat(40) },
      { name: 'b.v', data: 'b'.repeat(40) },
    ];
    expect(() => writeOutputs({ directories: [{ path: join(parent, 'new/rtl'), files }] }, fullDiskAfter(60))).toThrow(
      /new\/rtl\/b\.v: cannot write: no space left on the device/,
    );
    expect(readdirSync(parent)).toEqual([]);
    const r = writeOutputs({ directories: [{ path: join(parent, 'new/rtl'), files }] });
    expect(r.createdDirectories[0]).toMatch(/dirs\/new$/);
    const changed = files.map((f) => ({ ...f, data: f.data.toUpperCase() }));
    expect(() =>
      writeOutputs({ directories: [{ path: join(parent, 'new/rtl'), files: changed }] }, fullDiskAfter(60)),
    ).toThrow(/ENOSPC/);
    expect(readFileSync(join(parent, 'new/rtl/a.v'), 'utf8')).toBe('a'.repeat(40));
    expect(readFileSync(join(parent, 'new/rtl/b.v'), 'utf8')).toBe('b'.repeat(40));
    noTemps(join(parent, 'new/rtl'));
    noTemps(parent);
  });

  it('a directory output with subdirectories: created whole, or (existing) with the missing subdirectory staged', () => {
    const parent = join(tmp, 'nested');
    mkdirSync(parent);
    const files = [
      { name: 'nibble.bin', data: 'bits' },
      { name: 'rtl/a.v', data: 'a'.repeat(40) },
      { name: 'rtl/b.v', data: 'b'.repeat(40) },
    ];
    expect(() => writeOutputs({ directories: [{ path: join(parent, 'out'), files }] }, fullDiskAfter(60))).toThrow(
      /out\/rtl\/b\.v: cannot write: no space left on the device/,
    );
    expect(readdirSync(parent)).toEqual([]);
    writeOutputs({ directories: [{ path: join(parent, 'out'), files }] });
    expect(readdirSync(join(parent, 'out/rtl')).sort()).toEqual(['a.v', 'b.v']);
    // an existing directory without rtl/: nothing appears when the disk fills, everything when it does not
    const again = join(parent, 'again');
    mkdirSync(again);
    expect(() => writeOutputs({ directories: [{ path: again, files }] }, fullDiskAfter(60))).toThrow(/ENOSPC/);
    expect(readdirSync(again)).toEqual([]);
    writeOutputs({ directories: [{ path: again, files }] });
    expect(readFileSync(join(again, 'rtl/b.v'), 'utf8')).toBe('b'.repeat(40));
    writeOutputs({ directories: [{ path: again, files: files.map((f) => ({ ...f, data: 'new' })) }] });
    expect(readFileSync(join(again, 'rtl/a.v'), 'utf8')).toBe('new');
    noTemps(again);
    noTemps(join(again, 'rtl'));
    noTemps(parent);
  });

  it('a failing rename names what was already replaced', () => {
    const d = join(tmp, 'rename');
    mkdirSync(d);
    let renames = 0;
    const fs: OutputFs = {
      ...NODE_OUTPUT_FS,
      rename(from, to) {
        if (++renames === 2) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        NODE_OUTPUT_FS.rename(from, to);
      },
    };
    const msg = thrownMessage(
      () =>
        writeOutputs(
          {
            files: [
              { path: join(d, 'x'), data: '1' },
              { path: join(d, 'y'), data: '2' },
            ],
          },
          fs,
        ),
      FileError,
    );
    expect(msg).toMatch(/y: cannot replace the file: input\/output error \(EIO\) \(already replaced: .*\/x\)/);
    noTemps(d);
  });

  it('never creates a missing parent of a file, and says which directory is missing', () => {
    expect(
      thrownMessage(() => writeOutputs({ files: [{ path: join(tmp, 'no/such/f.json'), data: '' }] }), FileError),
    ).toBe(
      `${join(tmp, 'no/such/f.json')}: cannot write: the directory ${join(tmp, 'no/such')} does not exist (create it first)`,
    );
    expect(readdirSync(tmp)).not.toContain('no');
  });
});

describe('readInput*: regular files only, capped, binary is not text', () => {
  it('refuses devices, FIFOs, directories and missing files with the reason', () => {
    expect(thrownMessage(() => readInputBytes('/dev/zero', 'model file'), FileError)).toBe(
      '/dev/zero: cannot read model file: a character device, not a regular file',
    );
    expect(thrownMessage(() => readInputText(tmp, 'config file'), FileError)).toBe(
      `${tmp}: config file expected, but this is a directory`,
    );
    expect(thrownMessage(() => readInputText(join(tmp, 'gone/x.json'), 'config file'), FileError)).toBe(
      `${join(tmp, 'gone/x.json')}: config file not found (the directory ${join(tmp, 'gone')} does not exist)`,
    );
  });

  it('caps sizes', () => {
    const f = join(tmp, 'big.txt');
    writeFileSync(f, 'x'.repeat(5000));
    expect(thrownMessage(() => readInputText(f, 'model file', { maxBytes: 4096 }), FileError)).toBe(
      `${f}: model file is too large: 5000 bytes (the limit is 4096 bytes)`,
    );
  });

  it('binary files are named, never decoded into a message', () => {
    const f = join(tmp, 'prog.json');
    writeFileSync(f, Buffer.from([0x4e, 0x42, 0x4c, 0x31, 1, 0, 0, 0, 0xff, 0xfe]));
    expect(thrownMessage(() => readInputText(f, 'config file'), FileError)).toBe(
      `${f}: config file expected as text, but this is a nibble program file (.nbl): give it to sim, disasm, verify or report`,
    );
    writeFileSync(f, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(thrownMessage(() => readInputText(f, 'config file'), FileError)).toBe(
      `${f}: config file expected as UTF-8 text, but this is binary data`,
    );
  });
});

describe('parseJsonStrict', () => {
  const err = (text: string) => thrownMessage(() => parseJsonStrict(text, 'f.json'), NibbleError);
  it('agrees with JSON.parse on valid documents', () => {
    for (const t of ['0', '-1.5e-3', '"a\\u0041\\n"', '[]', '{}', '{"a":[1,{"b":null}],"c":true}', ' [ 1 , 2 ] '])
      expect(parseJsonStrict(t, 'f.json')).toEqual(JSON.parse(t));
    expect(parseJsonStrict('\ufeff{"a":1}', 'f.json')).toEqual({ a: 1 });
    // "__proto__" stays a plain key, as with JSON.parse
    expect(Object.keys(parseJsonStrict('{"__proto__":{"x":1}}', 'f.json') as object)).toEqual(['__proto__']);
  });

  it('places every error at line:column and says what is wrong', () => {
    expect(err('{"a": 1,\n "a": 2}')).toBe(
      'f.json:2:2: not valid JSON: duplicate key "a" in the top-level object (a key may appear only once)',
    );
    expect(err('{"x": {"\\u0062": 1, "b": 2}}')).toMatch(/^f\.json:1:21: .*duplicate key "b" in x/);
    expect(err('[1, 2,]')).toBe("f.json:1:7: not valid JSON: a trailing comma before ']'");
    expect(err('{"a": [1, 2}')).toBe("f.json:1:12: not valid JSON: expected ',' or ']' after a[1], got '}'");
    expect(err('{"a": 01}')).toBe("f.json:1:7: not valid JSON: invalid number '01': no leading zeros");
    expect(err('{"a": "x')).toBe('f.json:1:7: not valid JSON: a string that is never closed (is the file truncated?)');
    expect(err('{"a": 1')).toBe('f.json:1:8: not valid JSON: unexpected end of the file (is it truncated?)');
    expect(err("{'a': 1}")).toBe("f.json:1:2: not valid JSON: expected a key in double quotes, got '''");
    expect(err('{} {}')).toBe("f.json:1:4: not valid JSON: unexpected '{' after the end of the JSON value");
    expect(err('\u0000')).toBe('f.json:1:1: not valid JSON: expected a value, got a NUL byte (is this a binary file?)');
  });

  it('the fast path (JSON.parse, then a scan of keys and depth) rejects exactly what the validator rejects', () => {
    // objects whose keys may repeat, spelled plainly or with \u escapes, nested in arrays and objects
    const key = fc.constantFrom('a', 'b', 'ab', '\\u0061', 'a\\"', '\\\\', ',', '{', ']');
    const leaf = fc.oneof(fc.integer().map(String), fc.constantFrom('"x,}"', 'null', '[]', '{}', '"\\""'));
    const doc = fc.letrec<{ value: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
        fc
          .array(fc.tuple(key, tie('value')), { maxLength: 4 })
          .map((kv) => `{${kv.map(([k, v]) => `"${k}": ${v}`).join(',')}}`),
      ),
    })).value;
    fc.assert(
      fc.property(doc, (text) => {
        // the reference: JSON.parse with a reviver cannot see repeats, so count keys per object by hand
        let dup = false;
        const scan = (t: string) => {
          const stack: Set<string>[] = [];
          const re = /"((?:[^"\\]|\\.)*)"(\s*:)?|[{}]/g;
          for (let m = re.exec(t); m; m = re.exec(t)) {
            if (m[0] === '{') stack.push(new Set());
            else if (m[0] === '}') stack.pop();
            else if (m[2]) {
              const k = JSON.parse(`"${m[1]}"`) as string;
              if (stack[stack.length - 1]!.has(k)) dup = true;
              stack[stack.length - 1]!.add(k);
            }
          }
        };
        scan(text);
        const got = (() => {
          try {
            return { value: parseJsonStrict(text, 'f.json') };
          } catch (e) {
            return { error: (e as Error).message };
          }
        })();
        if (dup) expect(got.error).toMatch(/duplicate key/);
        else expect(got).toEqual({ value: JSON.parse(text) as unknown });
      }),
      { numRuns: 400 },
    );
  });

  it('nesting 10,000 deep is a located error, not a stack overflow', () => {
    expect(err('['.repeat(10_000) + ']'.repeat(10_000))).toBe(
      'f.json:1:257: not valid JSON: nested deeper than 256 levels of arrays and objects',
    );
  });
});
