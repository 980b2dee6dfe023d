/**
 * The systolic array (docs/rtl.md, "Compute unit"): nibble_pe, one
 * weight-stationary PE with two (or three: config weightBanks) weight banks, and nibble_array, R x C PEs with
 * the input skew (row r delayed r + 1 cycles) and the output de-skew (column c
 * delayed C - 1 - c cycles), so column sums leave aligned. On a machine that
 * can run nibble_lanes (R >= 4) the odd rows' PEs shift a tagged product 4 bits.
 */
import { NIBBLE_SHIFT, type CoreFacts } from '../core-facts.js';
import { VerilogModule, type Constants } from '../emit/module.js';
import { Dim } from '../emit/width.js';

export function peModule(c: Constants, banks: number): VerilogModule {
  const three = banks === 3;
  const m = new VerilogModule(
    'nibble_pe',
    `Weight-stationary PE: ${three ? 'three' : 'two'} weight banks; the bank tag (and on a high-nibble row the shift tag) travels with\n` +
      'the activation.',
    c,
  );
  const BW = three ? 2 : 1;
  const AB = m.param('AB', 4, 'activation bits (the PE sees them extended to AB+1 signed bits)');
  const WB = m.param('WB', 4, 'weight bits');
  const CW = m.param('CW', 16, 'partial sum bits');
  m.param('NS', 0, 'product shift of a tagged activation (4 on the high-nibble rows of nibble_lanes, else 0)');
  m.input('clk');
  m.input('rst');
  m.input('a_in', AB.plus(1), { signed: true });
  m.input('bank_in', BW);
  m.input('sh_in', 1, { doc: 'shift this product NS bits (a nibble_lanes high nibble)' });
  m.input('psum_in', CW, { signed: true });
  m.input('we0');
  m.input('we1');
  if (three) m.input('we2');
  m.input('w_in', WB, { signed: true });
  m.output('a_out', AB.plus(1), { signed: true, reg: true });
  m.output('bank_out', BW, { reg: true });
  m.output('sh_out', 1, { reg: true });
  m.output('psum_out', CW, { signed: true, reg: true });
  m.regs(three ? ['w0', 'w1', 'w2'] : ['w0', 'w1'], WB, { signed: true });
  m.wire('w', WB, { signed: true, value: three ? "bank_in == 2'd2 ? w2 : bank_in[0] ? w1 : w0" : 'bank_in ? w1 : w0' });
  m.wire('prod', AB.plus(WB).plus(1), { signed: true, value: 'a_in * w' });
  m.wire('prod_x', CW, { signed: true, value: '{{(CW-AB-WB-1){prod[AB+WB]}}, prod}' });
  m.wire('prod_s', CW, { signed: true, value: 'sh_in ? prod_x <<< NS : prod_x' });
  m.clocked(`
    a_out <= a_in;
    bank_out <= bank_in;
    sh_out <= sh_in;
    psum_out <= psum_in + prod_s;
    if (we0) w0 <= w_in;
    if (we1) w1 <= w_in;${three ? '\n    if (we2) w2 <= w_in;' : ''}
  `);
  return m;
}

export function arrayModule(f: CoreFacts, pe: VerilogModule): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_array',
    'R x C systolic array: activations enter at the left (skewed), partial sums flow down,\n' +
      'column sums leave at the bottom de-skewed into one aligned vector.',
    f.c,
  );
  m.input('clk');
  m.input('rst');
  m.portGroup("activations: the INP lanes read for the pixel at delay-line stage 1, and that pixel's tags");
  m.input('inp_q', d.INP_W, { doc: 'lane r from lane RAM r, read at the address of row r' });
  m.input('m1_intile', d.R, { doc: "row r's input lies inside the tile and its tap exists (else zero: padding)" });
  m.input('m1_asig', 1, { doc: 'activations are signed' });
  const BW = f.arch.weightBanks === 3 ? 2 : 1;
  m.input('m1_bank', BW, { doc: "weight bank of the pixel's pass" });
  if (f.nibbleLanes) m.input('m1_nib', 1, { doc: 'nibble_lanes: the odd rows hold high nibbles' });
  m.portGroup('weight preload: WGT data of the row read last cycle goes into PE row pl_wr_row, bank pl_wr_bank');
  m.input('wgt_q', d.WGT_W);
  m.input('pl_wr_v');
  m.input('pl_wr_row', d.LR);
  m.input('pl_wr_bank', BW);
  const pair = f.arch.pairPreload;
  if (pair) {
    m.input('wgt_q2', d.WGT_W, { doc: 'config fastPreload: the WGT entry after wgt_q (read together)' });
    m.input('pl_wr_pair', 1, { doc: 'rows pl_wr_row (wgt_q) and pl_wr_row + 1 (wgt_q2) are written' });
    m.comment('an odd row of a pair takes the second entry; one mux for all odd rows');
    m.wire('wgt_odd', d.WGT_W, { value: 'pl_wr_pair ? wgt_q2 : wgt_q' });
  }
  m.output('col_sums', Dim.product(d.C, d.CW), {
    doc: 'column c in [c*CW +: CW], aligned to the pixel at stage R+C+1',
  });
  m.wire('a_w', d.AB.plus(1), { signed: true, array: '0:R-1][0:C' });
  m.wire('bank_w', BW, { array: '0:R-1][0:C' });
  m.wire('sh_w', 1, { array: '0:R-1][0:C' });
  m.wire('ps_w', d.CW, { signed: true, array: '0:R][0:C-1' });
  m.forEach('g_row', 'gr', d.R, (row) => {
    row.comment(
      'activation extension (zero outside the tile) and input skew: row r is delayed r+1 cycles after INP data out',
    );
    row.wire('lane', d.AB, { value: 'inp_q[gr*AB +: AB]' });
    row.wire('a_ext', d.AB.plus(1), {
      signed: true,
      value: "m1_intile[gr] ? {m1_asig & lane[AB-1], lane} : {(AB+1){1'b0}}",
    });
    row.reg('sk_a', d.AB.plus(1), { signed: true, array: '0:gr' });
    row.reg('sk_b', BW, { array: '0:gr' });
    row.reg('sk_s', 1, { array: '0:gr' });
    row.comment(
      f.nibbleLanes
        ? 'the shift tag: set on the odd rows of a nibble_lanes pass (each tap group is g even lanes: low, high nibble)'
        : 'no shift tag: nibble_lanes needs R >= 4',
    );
    row.wire('sh_tag', 1, { value: f.nibbleLanes ? 'm1_nib && (gr % 2) == 1' : "1'b0" });
    row.forEach('g_skew', 'gk', 'gr + 1', (sk) =>
      sk.clocked(`
        if (gk == 0) begin sk_a[gk] <= a_ext; sk_b[gk] <= m1_bank; sk_s[gk] <= sh_tag; end
        else begin sk_a[gk] <= sk_a[gk-1]; sk_b[gk] <= sk_b[gk-1]; sk_s[gk] <= sk_s[gk-1]; end
      `),
    );
    row.assign('a_w[gr][0]', 'sk_a[gr]');
    row.assign('bank_w[gr][0]', 'sk_b[gr]');
    row.assign('sh_w[gr][0]', 'sk_s[gr]');
    row.wire('row_we', 1, {
      value: pair
        ? 'pl_wr_v && (pl_wr_row == gr || (pl_wr_pair && (gr % 2) == 1 && pl_wr_row == gr - 1))'
        : 'pl_wr_v && pl_wr_row == gr',
    });
    if (pair) row.wire('row_w', d.WGT_W, { value: '(gr % 2) == 1 ? wgt_odd : wgt_q' });
    row.forEach('g_col', 'gc', d.C, (col) =>
      col.instance(pe, 'u_pe', {
        params: { AB: d.AB, WB: d.WB, CW: d.CW, NS: f.nibbleLanes ? `(gr % 2) * ${NIBBLE_SHIFT}` : '0' },
        ports: {
          clk: 'clk',
          rst: 'rst',
          a_in: 'a_w[gr][gc]',
          bank_in: 'bank_w[gr][gc]',
          sh_in: 'sh_w[gr][gc]',
          psum_in: 'ps_w[gr][gc]',
          ...(BW === 2
            ? {
                we0: "row_we && pl_wr_bank == 2'd0",
                we1: "row_we && pl_wr_bank == 2'd1",
                we2: "row_we && pl_wr_bank == 2'd2",
              }
            : { we0: 'row_we && !pl_wr_bank', we1: 'row_we && pl_wr_bank' }),
          w_in: pair ? 'row_w[gc*WB +: WB]' : 'wgt_q[gc*WB +: WB]',
          a_out: 'a_w[gr][gc+1]',
          bank_out: 'bank_w[gr][gc+1]',
          sh_out: 'sh_w[gr][gc+1]',
          psum_out: 'ps_w[gr+1][gc]',
        },
      }),
    );
  });
  m.forEach('g_top', 'gc', d.C, (col) => col.assign('ps_w[0][gc]', "{CW{1'b0}}"));
  m.forEach('g_deskew', 'gc', d.C, (col) => {
    col.wire('col_sum', d.CW, { signed: true });
    col.ifGenerate(
      'gc == C - 1',
      'g_none',
      (b) => b.assign('col_sum', 'ps_w[R][gc]'),
      'g_regs',
      (b) => {
        b.reg('ds', d.CW, { signed: true, array: '0:C-2-gc' });
        b.forEach('g_ds', 'gk', 'C - 1 - gc', (st) =>
          st.clocked(`
            if (gk == 0) ds[gk] <= ps_w[R][gc];
            else ds[gk] <= ds[gk-1];
          `),
        );
        b.assign('col_sum', 'ds[C-2-gc]');
      },
    );
    col.assign('col_sums[gc*CW +: CW]', 'col_sum');
  });
  return m;
}
