/** The Verilog emitter (rtl-gen/emit/): widths, bit fields, modules, processes, instances and its refusals. */
import { describe, expect, it } from 'vitest';
import { BitFields, Constants, Dim, VerilogModule, lit, range, sext, zext } from '../../rtl-gen/index.js';

describe('widths', () => {
  const A = Dim.named('A', 3);
  const B = Dim.named('B', 5);
  it('render by name and know their value', () => {
    expect(A.plus(2).toString()).toBe('A+2');
    expect(A.plus(B).minus(1).toString()).toBe('A+B-1');
    expect(A.times(2).toString()).toBe('2*A');
    expect(A.minus(A).toString()).toBe('0');
    expect(Dim.product(A, B).toString()).toBe('A*B');
    expect([A.plus(B).value, Dim.product(A, B).value]).toEqual([8, 15]);
    expect(A.plus(B).evaluate(new Map([['A', 10]]))).toBe(15);
  });
  it('ranges, literals and extensions', () => {
    expect([range(1), range(8), range(A), range(A.plus(1)), range(4, 1)]).toEqual([
      '',
      '[7:0]',
      '[A-1:0]',
      '[A:0]',
      '[4:1]',
    ]);
    expect(lit(3, 5)).toBe("3'd5");
    expect(() => lit(3, 8)).toThrow(/8 does not fit 3 bits/);
    expect(zext('x', 3, 8)).toBe("{5'd0, x}");
    expect(zext('x', 3, B)).toBe("{{(B-3){1'b0}}, x}");
    expect(zext('x', B, B)).toBe('x');
    expect(sext('x', 3, 8)).toBe('{{5{x[2]}}, x}');
    expect(sext('x', A, B)).toBe('{{(B-A){x[A-1]}}, x}');
    expect(() => zext('x', 8, 3)).toThrow(/cannot zero-extend 8 bits to 3/);
  });
});

describe('bit fields', () => {
  const s = BitFields.concat([
    ['valid', 1],
    ['idx', Dim.named('IX', 4)],
    ['data', 8],
  ]);
  it('a concatenation: most significant first', () => {
    expect(s.width).toBe(13);
    expect(s.pack({ valid: 'v', idx: 'i', data: 'd' })).toBe('{v, i, d}');
    expect([s.slice('e', 'valid'), s.slice('e', 'idx'), s.slice('e', 'data')]).toEqual(['e[12]', 'e[11:8]', 'e[7:0]']);
    expect(s.sliceAt('line', 'k*W', 'idx')).toBe('line[k*W + 8 +: IX]');
    expect(s.describe()).toBe('valid[12] idx[11:8] data[7:0]');
  });
  it('explicit positions, checked against the vector', () => {
    const w = BitFields.at([{ name: 'op', lsb: 0, width: 4 }], 8);
    expect(w.slice('word', 'op')).toBe('word[3:0]');
    expect(() => w.pack({ op: 'x' })).toThrow(/needs a concatenation layout/);
    expect(() => BitFields.at([{ name: 'op', lsb: 6, width: 4 }], 8)).toThrow(/field op \[6\+:4\] lies outside 8 bits/);
    expect(() => w.field('nope' as 'op')).toThrow(/no field 'nope' \(fields: op\)/);
  });
});

/** A leaf with one constant in its port list and one only in its body. */
function leaf(c: Constants): VerilogModule {
  const m = new VerilogModule('leaf', 'A counter.', c);
  const W = c.define('W', 8, 'counter bits');
  c.define('STEP', 2, 'increment');
  c.define('UNUSED', 1, 'used by no module');
  m.input('clk');
  m.input('rst');
  m.input('en');
  m.output('count', W, { reg: true, doc: 'the count' });
  m.reg('hist', 1, { array: '0:3' });
  m.clocked(`
    if (en) count <= count + STEP;
    hist[0] <= en;
  `);
  return m;
}

describe('modules', () => {
  it('declare the constants they use (ports: parameter, body: localparam) and reset every register', () => {
    const text = leaf(new Constants()).renderModule();
    expect(text).toContain('module leaf #(\n  parameter W = 8  // counter bits\n) (');
    expect(text).toContain('output reg  [W-1:0] count  // the count');
    expect(text).toContain('  localparam STEP = 2;  // increment');
    expect(text).not.toContain('UNUSED');
    expect(text).toContain('if (rst) begin\n      count <= 0; hist[0] <= 0;\n    end else begin');
  });

  it('instances: unlisted ports connect by name; outputs become nets of the parent', () => {
    const c = new Constants();
    const child = leaf(c);
    const top = new VerilogModule('top', 'Two counters.', c);
    top.input('clk');
    top.input('rst');
    top.input('go');
    top.output('count', Dim.named('W', 8));
    top.instance(child, 'u_a', { ports: { en: 'go', count: 'a_count' } });
    top.wire('a_count', Dim.named('W', 8));
    top.instance(child, 'u_b', { ports: { en: 'a_count[0]' } });
    const text = top.renderModule();
    expect(text).toContain('  .en    (go),');
    expect(text).toContain('  .count (count)');
  });

  it('refuse what would not elaborate, naming the instance and port', () => {
    const c = new Constants();
    const child = leaf(c);
    const bare = new VerilogModule('bare', '', c);
    bare.input('clk');
    bare.instance(child, 'u_x');
    expect(() => bare.renderModule()).toThrow(/^internal: bare\.u_x: nothing drives or receives port 'rst'$/);

    const two = new VerilogModule('two', '', c);
    for (const p of ['clk', 'rst', 'en']) two.input(p);
    two.instance(child, 'u_a');
    two.instance(child, 'u_b');
    expect(() => two.renderModule()).toThrow(/^internal: two: two instances drive 'count'$/);

    const narrow = new VerilogModule('narrow', '', c);
    for (const p of ['clk', 'rst', 'en']) narrow.input(p);
    narrow.wire('count', 4);
    narrow.instance(child, 'u_a');
    expect(() => narrow.renderModule()).toThrow(/^internal: narrow\.u_a: port 'count' is 8 bits, 'count' is 4$/);

    expect(() => narrow.instance(child, 'u_b', { ports: { nope: 'x' } })).toThrow(/leaf has no port 'nope'/);
    expect(() => narrow.wire('count')).toThrow(/'count' declared twice/);

    const wrong = new VerilogModule('wrong', '', c);
    wrong.input('clk');
    wrong.input('rst');
    wrong.wire('w');
    wrong.clocked('w <= 1;');
    expect(() => wrong.renderModule()).toThrow(/a clocked process assigns 'w', which is not a reg/);
  });

  it('generate loops declare their genvars once', () => {
    const m = new VerilogModule('gen', '', new Constants());
    m.input('clk');
    m.wire('v', 8);
    m.forEach('g_a', 'i', 8, (b) => b.assign('v[i]', "1'b0"));
    m.forEach('g_b', 'i', 8, (b) => b.forEach('g_c', 'j', 2, (c) => c.comment('nested')));
    const text = m.renderModule();
    expect(text.match(/genvar/g)).toHaveLength(2);
    expect(text).toContain('genvar i;');
    expect(text).toContain('genvar j;');
    expect(text).toContain('for (j = 0; j < 2; j = j + 1) begin : g_c');
  });
});
