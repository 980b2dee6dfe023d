/**
 * The systolic array (docs/rtl.md, "Compute unit"): nibble_pe, one
 * weight-stationary PE with two weight banks, and nibble_array, N x N PEs with
 * the input skew (row r delayed r + 1 cycles) and the output de-skew (column c
 * delayed N - 1 - c cycles), so column sums leave aligned.
 */
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule, type Constants } from '../emit/module.js';
import { Dim } from '../emit/width.js';

export function peModule(c: Constants): VerilogModule {
  const m = new VerilogModule(
    'nibble_pe',
    'Weight-stationary PE: two weight banks; the bank tag travels with the activation.',
    c,
  );
  const AB = m.param('AB', 4, 'activation bits (the PE sees them extended to AB+1 signed bits)');
  const WB = m.param('WB', 4, 'weight bits');
  const CW = m.param('CW', 16, 'partial sum bits');
  m.input('clk');
  m.input('rst');
  m.input('a_in', AB.plus(1), { signed: true });
  m.input('bank_in');
  m.input('psum_in', CW, { signed: true });
  m.input('we0');
  m.input('we1');
  m.input('w_in', WB, { signed: true });
  m.output('a_out', AB.plus(1), { signed: true, reg: true });
  m.output('bank_out', 1, { reg: true });
  m.output('psum_out', CW, { signed: true, reg: true });
  m.regs(['w0', 'w1'], WB, { signed: true });
  m.wire('w', WB, { signed: true, value: 'bank_in ? w1 : w0' });
  m.wire('prod', AB.plus(WB).plus(1), { signed: true, value: 'a_in * w' });
  m.clocked(`
    a_out <= a_in;
    bank_out <= bank_in;
    psum_out <= psum_in + {{(CW-AB-WB-1){prod[AB+WB]}}, prod};
    if (we0) w0 <= w_in;
    if (we1) w1 <= w_in;
  `);
  return m;
}

export function arrayModule(f: CoreFacts, pe: VerilogModule): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_array',
    'N x N systolic array: activations enter at the left (skewed), partial sums flow down,\n' +
      'column sums leave at the bottom de-skewed into one aligned vector.',
    f.c,
  );
  m.input('clk');
  m.input('rst');
  m.portGroup("activations: the INP entry read for the pixel at delay-line stage 1, and that pixel's tags");
  m.input('inp_q', d.INP_W);
  m.input('m1_intile', 1, { doc: 'the pixel lies inside the input tile (else zeros: padding)' });
  m.input('m1_asig', 1, { doc: 'activations are signed' });
  m.input('m1_bank', 1, { doc: "weight bank of the pixel's pass" });
  m.portGroup('weight preload: WGT data of the row read last cycle goes into PE row pl_wr_row, bank pl_wr_bank');
  m.input('wgt_q', d.WGT_W);
  m.input('pl_wr_v');
  m.input('pl_wr_row', d.LN);
  m.input('pl_wr_bank');
  m.output('col_sums', Dim.product(d.N, d.CW), {
    doc: 'column c in [c*CW +: CW], aligned to the pixel at stage 2N+1',
  });
  m.wire('a_w', d.AB.plus(1), { signed: true, array: '0:N-1][0:N' });
  m.wire('bank_w', 1, { array: '0:N-1][0:N' });
  m.wire('ps_w', d.CW, { signed: true, array: '0:N][0:N-1' });
  m.forEach('g_row', 'gr', d.N, (row) => {
    row.comment(
      'activation extension (zero outside the tile) and input skew: row r is delayed r+1 cycles after INP data out',
    );
    row.wire('lane', d.AB, { value: 'inp_q[gr*AB +: AB]' });
    row.wire('a_ext', d.AB.plus(1), {
      signed: true,
      value: "m1_intile ? {m1_asig & lane[AB-1], lane} : {(AB+1){1'b0}}",
    });
    row.reg('sk_a', d.AB.plus(1), { signed: true, array: '0:gr' });
    row.reg('sk_b', 1, { array: '0:gr' });
    row.forEach('g_skew', 'gk', 'gr + 1', (sk) =>
      sk.clocked(`
        if (gk == 0) begin sk_a[gk] <= a_ext; sk_b[gk] <= m1_bank; end
        else begin sk_a[gk] <= sk_a[gk-1]; sk_b[gk] <= sk_b[gk-1]; end
      `),
    );
    row.assign('a_w[gr][0]', 'sk_a[gr]');
    row.assign('bank_w[gr][0]', 'sk_b[gr]');
    row.wire('row_we', 1, { value: 'pl_wr_v && pl_wr_row == gr' });
    row.forEach('g_col', 'gc', d.N, (col) =>
      col.instance(pe, 'u_pe', {
        params: { AB: d.AB, WB: d.WB, CW: d.CW },
        ports: {
          clk: 'clk',
          rst: 'rst',
          a_in: 'a_w[gr][gc]',
          bank_in: 'bank_w[gr][gc]',
          psum_in: 'ps_w[gr][gc]',
          we0: 'row_we && !pl_wr_bank',
          we1: 'row_we && pl_wr_bank',
          w_in: 'wgt_q[gc*WB +: WB]',
          a_out: 'a_w[gr][gc+1]',
          bank_out: 'bank_w[gr][gc+1]',
          psum_out: 'ps_w[gr+1][gc]',
        },
      }),
    );
  });
  m.forEach('g_top', 'gc', d.N, (col) => col.assign('ps_w[0][gc]', "{CW{1'b0}}"));
  m.forEach('g_deskew', 'gc', d.N, (col) => {
    col.wire('col_sum', d.CW, { signed: true });
    col.ifGenerate(
      'gc == N - 1',
      'g_none',
      (b) => b.assign('col_sum', 'ps_w[N][gc]'),
      'g_regs',
      (b) => {
        b.reg('ds', d.CW, { signed: true, array: '0:N-2-gc' });
        b.forEach('g_ds', 'gk', 'N - 1 - gc', (st) =>
          st.clocked(`
            if (gk == 0) ds[gk] <= ps_w[N][gc];
            else ds[gk] <= ds[gk-1];
          `),
        );
        b.assign('col_sum', 'ds[N-2-gc]');
      },
    );
    col.assign('col_sums[gc*CW +: CW]', 'col_sum');
  });
  return m;
}
