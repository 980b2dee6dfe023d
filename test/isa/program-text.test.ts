/**
 * Issue 15, part 3: assembly text carries a whole program (config and its
 * hash, meta, tensors, data segments as hex or files, layer markers), and
 * programText then assembleProgramText reproduces the program file byte for
 * byte. Malformed directives are one-line errors naming file:line:col.
 */
import { describe, expect, test } from 'vitest';
import { configHash, DEFAULT_CONFIG } from '../../arch/config.js';

const DEFAULT_CONFIG_HASH = configHash(DEFAULT_CONFIG);
import { ConfigError, IsaError } from '../../arch/errors.js';
import { compileNetwork } from '../../compiler/index.js';
import { writeProgramFile } from '../../isa/program-file.js';
import { assembleProgramText, programText } from '../../isa/program-text.js';
import type { Program } from '../../isa/program.js';
import { zooNames, zooNetwork } from '../../models/zoo.js';
import { randomConfig, randomProgram } from '../../sim/random-program.js';
import { thrownMessage } from '../thrown.js';

/** The text of `p` with its data as hex, and as files (read back from memory): both must give p's bytes. */
function roundTrip(p: Program): void {
  const bytes = Buffer.from(writeProgramFile(p));
  const hex = programText(p);
  expect(Buffer.from(writeProgramFile(assembleProgramText(hex.text, { file: 'p.s' }))).equals(bytes)).toBe(true);
  const files = programText(p, { data: 'files', dataDir: 'p.data' });
  expect(files.files).toHaveLength(p.segments.length);
  const stored = new Map(files.files.map((f) => [f.path, f.bytes]));
  const readFile = (path: string) => stored.get(path) ?? new Uint8Array(0);
  const q = assembleProgramText(files.text, { file: 'p.s', readFile });
  expect(Buffer.from(writeProgramFile(q)).equals(bytes)).toBe(true);
}

describe('whole programs in assembly', () => {
  test.each(zooNames().map((n) => [n]))(
    'compiled zoo network %s: text then assembly gives the same .nbl bytes',
    (name) => {
      const net = zooNetwork(name, name === 'vgg16' ? { inputSize: 32 } : {});
      roundTrip(compileNetwork(net, DEFAULT_CONFIG, { batch: 1 }));
    },
  );

  test('a batch, and random programs on random machines', () => {
    roundTrip(compileNetwork(zooNetwork('mnist'), DEFAULT_CONFIG, { batch: 3 }));
    for (let seed = 1; seed <= 30; seed++) roundTrip(randomProgram(seed, randomConfig(seed)));
  });

  test('a text from before config gemmBeside (a full .config without it and its .config-hash) assembles as that machine', () => {
    const cfg = { ...DEFAULT_CONFIG, gemmBeside: false };
    const p = compileNetwork(zooNetwork('mnist'), cfg, { batch: 1 });
    const bytes = Buffer.from(writeProgramFile(p));
    const { text } = programText(p);
    expect(text).toContain(',"gemmBeside":false');
    const old = text.replace(',"gemmBeside":false', '');
    const q = assembleProgramText(old, { file: 'old.s' });
    expect(q.config.gemmBeside).toBe(false);
    expect(q.configHash).toBe(p.configHash);
    expect(Buffer.from(writeProgramFile(q)).equals(bytes)).toBe(true);
    // the hash after the first instruction: the same machine (the text is read again as it)
    const lines = old.split('\n');
    const hashLine = lines.findIndex((l) => l.startsWith('.config-hash'));
    const moved = [...lines.slice(0, hashLine), ...lines.slice(hashLine + 1), lines[hashLine]!].join('\n');
    expect(assembleProgramText(moved, { file: 'old.s' }).config.gemmBeside).toBe(false);
    // the hash decides: the same .config with the default machine's hash is today's machine
    const today = compileNetwork(zooNetwork('mnist'), DEFAULT_CONFIG, { batch: 1 });
    const current = programText(today).text.replace(',"gemmBeside":true', '');
    expect(assembleProgramText(current, { file: 'new.s' }).config.gemmBeside).toBe(true);
    // a hash of neither machine is refused as before
    const wrong = old.replace(/^\.config-hash \w+$/m, '.config-hash 0123456789abcdef');
    expect(thrownMessage(() => assembleProgramText(wrong, { file: 'old.s' }), IsaError)).toMatch(
      new RegExp(
        `^old\\.s:3:14: \\.config-hash 0123456789abcdef does not match the \\.config \\(hash ${DEFAULT_CONFIG_HASH}\\)$`,
      ),
    );
  });

  test('the text keeps every instruction line, so errors can name them', () => {
    const p = compileNetwork(zooNetwork('mnist'), DEFAULT_CONFIG, { batch: 1 });
    const { text } = programText(p);
    const q = assembleProgramText(text, { file: 'm.s' });
    const lines = text.split('\n');
    expect(q.source!.lines).toHaveLength(p.code.length);
    q.source!.lines.forEach((line, i) => expect(lines[line - 1]!.startsWith(p.code[i]!.op)).toBe(true));
  });

  test('names that are not bare words, layers out of order and after the code', () => {
    const p = randomProgram(3, randomConfig(3));
    p.segments[0]!.name = 'weights; "first" #1';
    p.layers = [
      { ...p.layers[0]!, name: 'a layer with spaces' },
      { name: 'tail', kind: 'note', macs: 0, firstInstruction: p.code.length, lastInstruction: p.code.length - 1 },
      { name: 'back', kind: 'note', macs: 5, firstInstruction: 0, lastInstruction: 0 },
    ];
    roundTrip(p);
  });
});

describe('malformed program text', () => {
  const cfg = DEFAULT_CONFIG;
  const err = (text: string, cls: abstract new (...args: never[]) => Error = IsaError) =>
    thrownMessage(() => assembleProgramText(text, { file: 'p.s', config: cfg }), cls);
  const seg = (rest: string) => `.segment name=w dram=0x0 size=4 ${rest}`;

  test.each([
    [
      '.segmnet name=w',
      "p.s:1:1: unknown directive '.segmnet' (did you mean .segment?); known: .config, .config-hash, .meta, .input, .output, .segment, .layer, .data",
    ],
    [seg('hex size=5'), "p.s:1:37: 'size' given twice"],
    [seg('hex colour=red'), "p.s:1:37: unknown key 'colour'; keys: name, dram, size, file, hex"],
    ['.segment name=w dram=0x0 hex', 'p.s:1:1: .segment needs size='],
    [seg(''), "p.s:1:1: segment 'w': give either file=PATH or hex (then .data lines)"],
    [`${seg('hex')}\n.data 00ff\nNOP unit=load`, "p.s:1:1: segment 'w' declares 4 bytes but its .data lines give 2"],
    [`${seg('hex')}\n.data 00ff00ff00`, "p.s:2:1: segment 'w' has 4 bytes; this .data line goes past them"],
    [`${seg('hex')}\n.data 0g`, 'p.s:2:7: .data needs pairs of hex digits'],
    ['.data 00', 'p.s:1:1: .data belongs after a `.segment ... hex` line'],
    [seg('file=w.bin'), "p.s:1:1: segment 'w': file=w.bin cannot be read here"],
    ['.segment name=w dram=zero size=4 hex', "p.s:1:22: dram: bad number 'zero' (decimal or 0x hex)"],
    [
      '.input name=x dram=0 shape=1x28x28 layout=blocked bits=4 signed=0 image-stride=64',
      "p.s:1:28: shape must be NxCxHxW, got '1x28x28'",
    ],
    [
      '.input name=x dram=0 shape=1x1x2x2 layout=planar bits=4 signed=0 image-stride=64',
      "p.s:1:43: layout must be one of blocked, nibble-planes, nibble-lanes, got 'planar'",
    ],
    [
      '.layer name="unclosed kind=conv2d macs=1 instructions=1',
      'p.s:1:13: name: "unclosed kind=conv2d macs=1 instructions=1 is not a JSON string',
    ],
    ['.meta {"model": [1]}', 'p.s:1:1: .meta model: must be a string or a number, got [1]'],
    ['.meta {"model": ', 'p.s:1:1: .meta needs one line of JSON: Unexpected end of JSON input'],
    ['.config-hash 1234', 'p.s:1:1: .config-hash needs the 16 hex digits of configHash(config)'],
    [
      '.config-hash 0123456789abcdef\nNOP unit=load\nHALT',
      'p.s:1:14: the text was written for config hash 0123456789abcdef but the config in use hashes to f9765646d11e98f6: give that config or a .config line',
    ],
    ['NOP unit=load\n.config {}', 'p.s:2:1: .config must come before the first instruction (field widths follow it)'],
    ['.meta {}\n.meta {}', 'p.s:2:1: .meta given twice'],
  ])('%s', (text, message) => {
    expect(err(text)).toBe(message);
  });

  test('a bad .config is a ConfigError naming the line and the field; no config at all is named too', () => {
    expect(err('.config {"array": {"rows": 3}}', ConfigError)).toMatch(
      /^p\.s:1:1: config\.array\.rows: must be a power of two/,
    );
    expect(thrownMessage(() => assembleProgramText('NOP unit=load', { file: 'p.s' }), IsaError)).toBe(
      'p.s:1:1: no machine config: add a .config line before the first instruction, or give one',
    );
  });
});
