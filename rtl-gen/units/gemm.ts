/**
 * nibble_gemm, the GEMM controller (docs/rtl.md, "Compute unit"): the preload
 * engine (one pass = R WGT reads into a weight bank, or R/2 reads of two rows
 * with config fastPreload, docs/architecture.md 7.2; and the row walk that gives
 * every array row its kernel tap), the 2-entry pass FIFO, the issue engine (one
 * pixel per cycle, incremental addresses, one INP address and padding test per
 * row), the G-deep pixel metadata delay line and the ACC read-modify-write with
 * its same-cycle bypass. The array itself is nibble_array.
 */
import type { CoreFacts } from '../core-facts.js';
import { BitFields } from '../emit/fields.js';
import { VerilogModule } from '../emit/module.js';
import { Dim, bitsFor, lit, sext, widthValue, zext, type Width } from '../emit/width.js';

/** The GEMM fields a register or descriptor slot holds, with the field's own width. */
function gemmWidths(f: CoreFacts) {
  const w = (name: string) => f.isa.width('GEMM', name);
  /** a field the RTL treats as one of the named dimensions: they must agree */
  const dim = (name: string, d: Dim): Dim => {
    if (w(name) !== d.value) throw new Error(`internal: GEMM.${name} has ${w(name)} bits, the RTL assumes ${d.value}`);
    return d;
  };
  return {
    kh: w('kernel_h'),
    kw: w('kernel_w'),
    cb: w('ci_blocks'),
    sh: w('stride_h'),
    sw: w('stride_w'),
    pt: w('pad_top'),
    pl: w('pad_left'),
    psh: w('pshift'),
    inH: dim('in_h', f.d.DIMB),
    inW: dim('in_w', f.d.DIMB),
    // out_h / out_w are ACC-sized fields (GODIMB bits), held in ODIMB-wide registers like REQUANT's
    outField: dim('out_w', dim('out_h', f.d.GODIMB)),
    outH: f.d.ODIMB,
    outW: f.d.ODIMB,
    acc: dim('acc_addr', f.d.ACC_AW),
    wgt: dim('wgt_addr', f.d.WGT_AW),
    inp: dim('inp_addr', f.d.INP_AW),
  };
}

/** The nibble_lanes flag of a pass and its pixels, on a machine that can run it (R >= 4). */
const nibField = (f: CoreFacts): (readonly ['nib', 1])[] => (f.nibbleLanes ? [['nib', 1]] : []);

/** Config fastPreload: passes without tap packing read two weight rows a cycle (docs/architecture.md 7.2). */
const pairPreload = (f: CoreFacts): boolean => f.arch.pairPreload;
/** The bank hold counters count arch.bankHold cycles down (C + 1 states on the one-row machine, as before). */
const bankCountBits = (f: CoreFacts): Width => (f.arch.pairPreload ? bitsFor(f.arch.bankHold) : f.d.LC.plus(1));

/** A `w`-bit step of 2 when `pair` is set, else 1 (mod 2^w). */
function rowStep(w: number, pair: string): string {
  if (w === 1) return `!${pair}`;
  return w === 2 ? `{${pair}, !${pair}}` : `{${w - 2}'d0, ${pair}, !${pair}}`;
}

/** Bits of a weight bank index: 1 for two banks, 2 for three (config weightBanks). */
const bankBits = (f: CoreFacts): number => (f.arch.weightBanks === 3 ? 2 : 1);
/** `sel` picks one of the per-bank values `xs` (the two-bank text as before: `sel ? x1 : x0`). */
function bankMux(f: CoreFacts, sel: string, xs: readonly string[]): string {
  return f.arch.weightBanks === 3
    ? `${sel} == 2'd2 ? ${xs[2]} : ${sel}[0] ? ${xs[1]} : ${xs[0]}`
    : `${sel} ? ${xs[1]} : ${xs[0]}`;
}
/** Verilog that does `stmt(k)` for the bank `sel` = k. */
function bankCase(f: CoreFacts, sel: string, stmt: (k: number) => string): string {
  if (f.arch.weightBanks === 2) return `if (${sel}) ${stmt(1)} else ${stmt(0)}`;
  return `if (${sel} == 2'd2) ${stmt(2)} else if (${sel}[0]) ${stmt(1)} else ${stmt(0)}`;
}
/** The names `base0`, `base1` (, `base2`): one per weight bank. */
const perBank = (f: CoreFacts, base: string): string[] =>
  Array.from({ length: f.arch.weightBanks }, (_, k) => `${base}${k}`);

const pdw = (f: CoreFacts) => f.c.define('PDW', passDescriptor(f).width, 'pass descriptor bits');
const pfCountBits = (f: CoreFacts) => bitsFor(f.d.WBANKS.value);

/** Pass descriptor: written at a pass's preload, read by the issue engine. */
function passDescriptor(f: CoreFacts) {
  const { d } = f;
  const g = gemmWidths(f);
  return BitFields.concat([
    ['bank', bankBits(f)],
    ['ovw', 1],
    ['last', 1],
    ['idx', d.IX],
    ['iy0', d.IW],
    ['ix0', d.IW],
    ['rowbase0', d.INP_AW],
    ['rowstep', d.INP_AW],
    ['in_h', g.inH],
    ['in_w', g.inW],
    ['out_h', g.outH],
    ['out_w', g.outW],
    ['sh', g.sh],
    ['sw', g.sw],
    ['acc', g.acc],
    ['psh', g.psh],
    ['asig', 1],
    ...nibField(f),
    ['pp', 1],
    ['pn', 1],
  ]);
}

/** What one array row reads in a pass (per weight bank): its tap's offsets, INP address offset, and whether it exists. */
function rowTap(f: CoreFacts) {
  const g = gemmWidths(f);
  return BitFields.concat([
    ['kh', g.kh],
    ['kw', g.kw],
    ['off', f.d.INP_AW],
    ['v', 1],
  ]);
}

/** Pixel metadata carried down the delay line (the rows' in-tile flags go to the array at stage 1 on their own). */
function pixelMeta(f: CoreFacts) {
  const g = gemmWidths(f);
  return BitFields.concat([
    ['asig', 1],
    ...nibField(f),
    ['bank', bankBits(f)],
    ['acc', g.acc],
    ['ovw', 1],
    ['psh', g.psh],
    ['last', 1],
    ['idx', f.d.IX],
    ['pp', 1],
    ['pn', 1],
  ]);
}

function ports(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.input('clk');
  m.input('rst');
  m.input('gemm_start', 1, { doc: 'the compute queue head (a GEMM) starts this cycle' });
  m.input('cq_head', d.QW, { lintOff: ['UNUSEDSIGNAL'], doc: 'GEMM fields decoded here' });
  m.output('gemm_ready', 1, { doc: 'a GEMM may start: no preload pending and the next bank free' });
  m.output('gemm_any', 1, { doc: 'a GEMM is in flight anywhere in the pipeline' });
  m.portGroup('WGT and INP reads');
  m.output('wgt_re');
  m.output('wgt_ra', d.WGT_AW);
  m.output('inp_re');
  m.output('inp_ra', Dim.product(d.R, d.INP_AW), { doc: 'row r reads INP lane RAM r at [r*INP_AW +: INP_AW]' });
  m.portGroup('to the array: weight writes and the tags of the pixel at delay-line stage 1');
  m.output('pl_wr_v', 1, { reg: true });
  m.output('pl_wr_row', d.LR, { reg: true });
  m.output('pl_wr_bank', bankBits(f), { reg: true });
  if (pairPreload(f))
    m.output('pl_wr_pair', 1, { reg: true, doc: 'two rows: pl_wr_row from wgt_q, the next from wgt_q2' });
  m.output('m1_intile', d.R, { reg: true });
  m.output('m1_asig');
  m.output('m1_bank', bankBits(f));
  if (f.nibbleLanes) m.output('m1_nib');
  m.input('col_sums', Dim.product(d.C, d.CW));
  m.portGroup('ACC: the read-modify-write (the read port is shared with REQUANT)');
  m.output('gemm_acc_re');
  m.output('gemm_acc_ra', d.ACC_AW);
  m.input('acc_re', 1, { doc: 'the ACC read port as driven this cycle' });
  m.input('acc_ra', d.ACC_AW);
  m.input('acc_q', d.ACC_W);
  m.output('acc_we');
  m.output('acc_wa', d.ACC_AW);
  m.output('acc_wd', d.ACC_W);
  m.output('acc_ovf', 1, { reg: true, doc: 'sticky: an ACC write left the accumulator range' });
  m.portGroup('retire of a GEMM (its last pixel at stage G) and activity');
  m.output('g_ret');
  m.output('g_ret_idx', d.IX);
  m.output('g_ret_pp');
  m.output('g_ret_pn');
  m.output('array_active', 1, { doc: 'a pixel is issued into the array this cycle' });
}

/** The pass being started: from the queue head (first pass) or the registers (later passes). */
function passSelect(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const g = gemmWidths(f);
  const head = f.isa.entryView('GEMM', d.IX.value);
  head.unpack(m, 'cq_head', 'gh', [
    ...f.isa.layouts
      .get('GEMM')!
      .fields.map((x) => x.name)
      .filter((x) => f.nibbleLanes || x !== 'nibble_lanes'),
    'push_prev',
    'push_next',
    'idx',
  ]);
  const regs: [string, Width][] = [
    ['g_kh_n', g.kh],
    ['g_kw_n', g.kw],
    ['pl_kh', g.kh],
    ['pl_kw', g.kw],
    ['g_cb_n', g.cb],
    ['pl_cb', g.cb],
    ['g_in_h', g.inH],
    ['g_in_w', g.inW],
    ['g_out_h', g.outH],
    ['g_out_w', g.outW],
    ['g_sh', g.sh],
    ['g_sw', g.sw],
    ['g_pt', g.pt],
    ['g_pl', g.pl],
    ['g_psh', g.psh],
    ['g_acc', g.acc],
    ['g_idx', d.IX],
    ['pl_wbase', g.wgt],
    ['pl_rd', g.wgt],
    ['pl_blk', g.inp],
    ['pl_off', d.INP_AW],
    ['pl_offrow', d.INP_AW],
    ['pl_row', d.LR],
  ];
  for (const [name, w] of regs) m.reg(name, w);
  m.regs(['pl_first', 'g_accum', 'g_asig', 'g_nib', 'g_taps', 'g_pp', 'g_pn']);
  m.wire('pl_go', 1, { value: 'gemm_start || (pl_more && !pl_active && bank_free[pl_next_bank])' });
  m.wire('v_new', 1, { value: 'gemm_start' });
  const sel = (name: string, w: Width, fromHead: string, reg: string) =>
    m.wire(name, w, { value: `v_new ? ${fromHead} : ${reg}` });
  sel('v_kh_n', g.kh, 'gh_kernel_h', 'g_kh_n');
  sel('v_kw_n', g.kw, 'gh_kernel_w', 'g_kw_n');
  sel('v_cb_n', g.cb, 'gh_ci_blocks', 'g_cb_n');
  sel('v_kh', g.kh, '0', 'pl_kh');
  sel('v_kw', g.kw, '0', 'pl_kw');
  sel('v_cb', g.cb, '0', 'pl_cb');
  sel('v_in_h', g.inH, 'gh_in_h', 'g_in_h');
  sel('v_in_w', g.inW, 'gh_in_w', 'g_in_w');
  sel('v_out_h', g.outH, zext('gh_out_h', g.outField, g.outH), 'g_out_h');
  sel('v_out_w', g.outW, zext('gh_out_w', g.outField, g.outW), 'g_out_w');
  sel('v_sh', g.sh, 'gh_stride_h', 'g_sh');
  sel('v_sw', g.sw, 'gh_stride_w', 'g_sw');
  sel('v_pt', g.pt, 'gh_pad_top', 'g_pt');
  sel('v_pl', g.pl, 'gh_pad_left', 'g_pl');
  sel('v_psh', g.psh, 'gh_pshift', 'g_psh');
  sel('v_acc', g.acc, 'gh_acc_addr', 'g_acc');
  sel('v_accum', 1, 'gh_accumulate', 'g_accum');
  sel('v_asig', 1, 'gh_act_signed', 'g_asig');
  sel('v_nib', 1, f.nibbleLanes ? 'gh_nibble_lanes' : "1'b0", 'g_nib');
  sel('v_taps', 1, 'gh_taps', 'g_taps');
  sel('v_off', d.INP_AW, '0', 'pl_off');
  sel('v_offrow', d.INP_AW, '0', 'pl_offrow');
  sel('v_pp', 1, 'gh_push_prev', 'g_pp');
  sel('v_pn', 1, 'gh_push_next', 'g_pn');
  sel('v_idx', d.IX, 'gh_idx', 'g_idx');
  sel('v_wbase', g.wgt, 'gh_wgt_addr', 'pl_wbase');
  sel('v_blk', g.inp, 'gh_inp_addr', 'pl_blk');
  sel('v_first', 1, "1'b1", 'pl_first');
  m.wire('v_last_kw', 1, { value: "v_kw == v_kw_n - 1'b1" });
  m.wire('v_last_kh', 1, { value: "v_kh == v_kh_n - 1'b1" });
  m.wire('v_last_cb', 1, { value: "v_cb == v_cb_n - 1'b1" });
  m.comment('a tap-packed pass learns whether it is the last at the end of its row walk (rowWalk)');
  m.wire('v_last', 1, { value: '!v_taps && v_last_kw && v_last_kh && v_last_cb' });
  if (pairPreload(f))
    m.wire('v_pair', 1, { value: '!v_taps', doc: 'config fastPreload: two weight rows a cycle (not tap-packed)' });
}

function preloadEngine(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const g = gemmWidths(f);
  const pd = passDescriptor(f);
  m.comment('address products are taken mod 2^INP_AW (scratchpad addresses wrap), so their high bits are unused');
  m.lintOff(['UNUSEDSIGNAL'], () => {
    m.wire('v_hw_f', d.DIMB.times(2), { value: 'v_in_h * v_in_w' });
    m.wire('v_hw', d.INP_AW, { value: 'v_hw_f[INP_AW-1:0]' });
    m.comment('pass descriptor (registered at PL, pushed to the pass FIFO at PL+R-1); each row adds its tap');
    m.wire('v_ptw', d.DIMB.plus(g.pt), { value: 'v_pt * v_in_w' });
    m.wire('v_rowstep_f', d.DIMB.plus(g.sh), { value: 'v_in_w * v_sh' });
  });
  const ptw = d.DIMB.plus(g.pt);
  m.wire('v_rowbase0', d.INP_AW, {
    value: `v_blk - ${ptw.value >= d.INP_AW.value ? 'v_ptw[INP_AW-1:0]' : zext('v_ptw', ptw, d.INP_AW)}`,
  });
  m.wire('v_rowstep', d.INP_AW, { value: 'v_rowstep_f[INP_AW-1:0]' });
  m.lintOff(['UNUSEDSIGNAL'], () =>
    m.wire('v_in_w_a', d.INP_AW, {
      value: d.DIMB.value >= d.INP_AW.value ? 'v_in_w[INP_AW-1:0]' : zext('v_in_w', d.DIMB, d.INP_AW),
      doc: 'in_w as an INP address step',
    }),
  );
  const PDW = pdw(f);
  m.comment(`pass descriptor, msb first: ${pd.describe()}`);
  m.wire('v_pd', PDW, {
    value: pd.pack({
      bank: 'pl_next_bank',
      ovw: 'v_first && !v_accum',
      last: 'v_last',
      idx: 'v_idx',
      iy0: `-$signed(${zext('v_pt', g.pt, d.IW)})`,
      ix0: `-$signed(${zext('v_pl', g.pl, d.IW)})`,
      rowbase0: 'v_rowbase0',
      rowstep: 'v_rowstep',
      in_h: 'v_in_h',
      in_w: 'v_in_w',
      out_h: 'v_out_h',
      out_w: 'v_out_w',
      sh: 'v_sh',
      sw: 'v_sw',
      acc: 'v_acc',
      psh: 'v_psh',
      asig: 'v_asig',
      nib: 'v_nib',
      pp: 'v_pp',
      pn: 'v_pn',
    }),
  });
  m.assign('wgt_re', 'pl_go || pl_active');
  m.assign('wgt_ra', 'pl_go ? v_wbase : pl_rd');
  const pair = pairPreload(f);
  if (pair) {
    m.reg('pl_pair', 1, { doc: 'the preload in progress reads two rows a cycle' });
    m.wire('pl_end', 1, {
      value: `pl_active && (pl_pair ? pl_row == ${lit(d.LR, f.arch.rows - 2)} : pl_row == {LR{1'b1}})`,
      doc: 'the last row (pair) of a preload',
    });
    m.comment(
      'a pair pass may issue from PL + 1 (its rows stay ahead of its pixels); a one-row pass once its tile is in',
    );
    m.wire('pf_push', 1, { value: '(pl_go && v_pair) || (pl_end && !pl_pair)' });
  } else {
    m.wire('pl_end', 1, { value: "pl_active && pl_row == {LR{1'b1}}", doc: 'the last row of a preload' });
    m.wire('pf_push', 1, { value: 'pl_end' });
  }
  m.comment(
    pair
      ? 'WGT data of the row (pair) read last cycle goes into PE row pl_wr_row (and the next), bank pl_wr_bank'
      : 'WGT data of the row read last cycle goes into PE row pl_wr_row, bank pl_wr_bank',
  );
  m.reg('pl_bank_cur', bankBits(f));
  m.comment('an ordinary GEMM steps its pass here; a tap-packed one at the end of the row walk');
  // a pair preload of R = 2 rows is all in its first cycle
  const startActive = pair ? (f.arch.rows === 2 ? '!v_pair' : "1'b1") : "1'b1";
  const first = pair ? rowStep(widthValue(d.LR), 'v_pair') : '1';
  const next = pair ? rowStep(widthValue(d.LR), 'pl_pair') : "1'b1";
  const firstRd = pair ? rowStep(widthValue(g.wgt), 'v_pair') : "1'b1";
  const nextRd = pair ? rowStep(widthValue(g.wgt), 'pl_pair') : "1'b1";
  const pairLines = pair ? '\n    pl_wr_pair <= pl_go ? v_pair : pl_pair;\n    if (pl_go) pl_pair <= v_pair;' : '';
  m.clocked(`
    pl_wr_v <= wgt_re;
    pl_wr_row <= pl_go ? {LR{1'b0}} : pl_row;
    pl_wr_bank <= pl_go ? pl_next_bank : pl_bank_cur;${pairLines}
    if (pl_go) begin
      g_kh_n <= v_kh_n; g_kw_n <= v_kw_n; g_cb_n <= v_cb_n; g_in_h <= v_in_h; g_in_w <= v_in_w;
      g_out_h <= v_out_h; g_out_w <= v_out_w; g_sh <= v_sh; g_sw <= v_sw; g_pt <= v_pt; g_pl <= v_pl;
      g_psh <= v_psh; g_acc <= v_acc; g_accum <= v_accum; g_asig <= v_asig; g_nib <= v_nib; g_taps <= v_taps;
      g_pp <= v_pp; g_pn <= v_pn; g_idx <= v_idx;
      pl_active <= ${startActive}; pl_row <= ${first}; pl_rd <= v_wbase + ${firstRd}; pl_bank_cur <= pl_next_bank;
      pl_next_bank <= ${f.arch.weightBanks === 3 ? "pl_next_bank == 2'd2 ? 2'd0 : pl_next_bank + 1'b1" : '!pl_next_bank'};
      pl_more <= !v_last; pl_first <= 1'b0;
      pl_wbase <= v_wbase + R[WGT_AW-1:0];
      if (v_taps) begin pl_cb <= v_cb; pl_blk <= v_blk; end
      else begin
        if (!v_last_kw) begin
          pl_kw <= v_kw + 1'b1; pl_kh <= v_kh; pl_cb <= v_cb; pl_blk <= v_blk; pl_off <= v_off + 1'b1; pl_offrow <= v_offrow;
        end else if (!v_last_kh) begin
          pl_kw <= 0; pl_kh <= v_kh + 1'b1; pl_cb <= v_cb; pl_blk <= v_blk;
          pl_off <= v_offrow + v_in_w_a; pl_offrow <= v_offrow + v_in_w_a;
        end else begin
          pl_kw <= 0; pl_kh <= 0; pl_cb <= v_cb + 1'b1; pl_blk <= v_blk + v_hw; pl_off <= 0; pl_offrow <= 0;
        end
      end
    end else if (pl_active) begin
      pl_row <= pl_row + ${next}; pl_rd <= pl_rd + ${nextRd};
      if (pl_end) pl_active <= 1'b0;
      if (pl_end && g_taps) begin
        pl_kh <= n_kh; pl_kw <= n_kw; pl_off <= n_off; pl_offrow <= n_offrow; pl_more <= !n_bey;
      end
    end
  `);
}

/**
 * The row walk (docs/architecture.md 7.6): while a pass preloads (row r at PL+r) it gives
 * array row r, in the pass's weight bank, the kernel tap it reads. An ordinary GEMM: the
 * pass's tap on every row. Tap-packed (taps = 1, tap group g = ci_blocks): rows in groups
 * of g lanes, each group the next tap (row-major), a group that does not fit in R rows or
 * a tap past the kernel reads zero. After T = floor(R/g) groups the walk stands at the next
 * pass's first tap; past the kernel means this pass was the last.
 */
function rowWalk(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const g = gemmWidths(f);
  const rt = rowTap(f);
  m.section('row walk: the kernel tap of every array row of a pass');
  const GSW = d.LR.plus(1);
  m.regs(['wk_kh'], g.kh);
  m.regs(['wk_kw'], g.kw);
  m.regs(['wk_off', 'wk_offrow'], d.INP_AW);
  m.reg('wk_l', g.cb, { doc: 'lane of the row in its tap group' });
  m.reg('wk_gs', GSW, { doc: "the row's tap group starts at this row" });
  m.reg('wk_bey', 1, { doc: 'the tap walked past the kernel' });
  m.comment("the row being walked: row 0 at pl_go (the pass's first tap), then the walk registers");
  m.wire('c_r', d.LR, { value: "pl_go ? {LR{1'b0}} : pl_row" });
  m.wire('c_kh', g.kh, { value: 'pl_go ? v_kh : wk_kh' });
  m.wire('c_kw', g.kw, { value: 'pl_go ? v_kw : wk_kw' });
  m.wire('c_off', d.INP_AW, { value: 'pl_go ? v_off : wk_off' });
  m.wire('c_offrow', d.INP_AW, { value: 'pl_go ? v_offrow : wk_offrow' });
  m.wire('c_l', g.cb, { value: 'pl_go ? 0 : wk_l' });
  m.wire('c_gs', GSW, { value: 'pl_go ? 0 : wk_gs' });
  m.wire('c_bey', 1, { value: "pl_go ? 1'b0 : wk_bey" });
  const FW = Math.max(GSW.value, widthValue(g.cb)) + 1;
  m.wire('c_fits', 1, {
    value: `${zext('c_gs', GSW, FW)} + ${zext('v_cb_n', g.cb, FW)} <= ${lit(FW, f.arch.rows)}`,
    doc: "the row's whole tap group fits in the R rows",
  });
  m.wire('c_v', 1, { value: '!v_taps || (!c_bey && c_fits)' });
  m.wire('c_gend', 1, { value: "v_taps && c_l == v_cb_n - 1'b1", doc: 'the last lane of a tap group' });
  m.wire('c_adv', 1, { value: 'c_gend && !c_bey' });
  m.wire('c_kw_end', 1, { value: "c_kw == v_kw_n - 1'b1" });
  m.wire('c_kh_end', 1, { value: "c_kh == v_kh_n - 1'b1" });
  m.comment('the next row: the same tap, or (after a group) the next tap of the kernel');
  m.wire('n_kh', g.kh, { value: "c_adv && c_kw_end && !c_kh_end ? c_kh + 1'b1 : c_kh" });
  m.wire('n_kw', g.kw, { value: "c_adv ? (c_kw_end ? 0 : c_kw + 1'b1) : c_kw" });
  m.wire('n_offrow', d.INP_AW, { value: 'c_adv && c_kw_end && !c_kh_end ? c_offrow + v_in_w_a : c_offrow' });
  m.wire('n_off', d.INP_AW, {
    value: "c_adv ? (c_kw_end ? c_offrow + v_in_w_a : c_off + 1'b1) : c_off",
  });
  m.wire('n_bey', 1, { value: 'c_bey || (c_adv && c_kw_end && c_kh_end)' });
  m.wire('wk_step', 1, { value: 'pl_go || pl_active' });
  m.wire('wk_bank', bankBits(f), { value: 'pl_go ? pl_next_bank : pl_bank_cur' });
  m.clocked(`
    if (wk_step) begin
      wk_kh <= n_kh; wk_kw <= n_kw; wk_off <= n_off; wk_offrow <= n_offrow; wk_bey <= n_bey;
      wk_l <= c_gend ? 0 : c_l + 1'b1;
      wk_gs <= c_gend ? ${zext('c_r', d.LR, GSW)} + 1'b1 : c_gs;
    end
  `);
  m.comment(`row tap, msb first: ${rt.describe()}`);
  const RTW = f.c.define('RTW', rt.width, 'row tap bits');
  m.wire('c_rt', RTW, { value: rt.pack({ kh: 'c_kh', kw: 'c_kw', off: 'c_off', v: 'c_v' }) });
}

function passFifo(m: VerilogModule, f: CoreFacts): void {
  m.section('pass FIFO (one slot per weight bank)');
  m.comment(
    "Pass j's descriptor lives in slot j mod B (B weight banks), written at its PL and counted at PL+R-1 (a pair\n" +
      'pass: at PL, pf_push). Slot and weight bank share the index j mod B, and pass j+B preloads only once bank\n' +
      "j mod B is free (bankHold cycles after pass j's last issue), so the issue engine reads its pass straight\n" +
      'from the slot: no staging or copy registers.',
  );
  m.regs(perBank(f, 'pf'), pdw(f));
  m.regs(['pf_rp', 'is_slot'], bankBits(f));
  m.wire('is_start', 1, { value: 'pf_cnt != 0 && !is_active' });
  const last = (slot: string) => passDescriptor(f).slice(slot, 'last');
  m.comment("a tap-packed pass's last flag is known at the end of its row walk, and read from PL+R on");
  m.clocked(`
    if (pl_go) begin ${bankCase(f, 'pl_next_bank', (k) => `pf${k} <= v_pd;`)} end
    if (pl_end && g_taps) begin ${bankCase(f, 'pl_bank_cur', (k) => `${last(`pf${k}`)} <= n_bey;`)} end
    if (is_start) begin pf_rp <= ${f.arch.weightBanks === 3 ? "pf_rp == 2'd2 ? 2'd0 : pf_rp + 1'b1" : '!pf_rp'}; is_slot <= pf_rp; end
    pf_cnt <= pf_cnt + ${zext('pf_push', 1, pfCountBits(f))} - ${zext('is_start', 1, pfCountBits(f))};
  `);
}

function issueEngine(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const g = gemmWidths(f);
  const pd = passDescriptor(f);
  const hold = pairPreload(f) ? lit(bankCountBits(f), f.arch.bankHold) : 'C';
  m.section('issue engine (one pixel per cycle)');
  m.wire('d_slot', bankBits(f), { value: 'is_start ? pf_rp : is_slot' });
  m.wire('d', pdw(f), { value: bankMux(f, 'd_slot', perBank(f, 'pf')) });
  pd.unpack(
    m,
    'd',
    'd',
    pd.fields.map((x) => x.name),
    ['iy0', 'ix0'],
  );
  m.regs(['is_y', 'is_x'], g.outW);
  m.regs(['is_iy', 'is_ix'], d.IW, { signed: true });
  m.reg('is_rowbase', d.INP_AW);
  m.reg('is_acc', g.acc);
  m.wire('e_valid', 1, { value: 'is_start || is_active' });
  m.wire('e_y', g.outH, { value: 'is_start ? 0 : is_y' });
  m.wire('e_x', g.outW, { value: 'is_start ? 0 : is_x' });
  m.wire('e_iy', d.IW, { signed: true, value: 'is_start ? d_iy0 : is_iy' });
  m.wire('e_ix', d.IW, { signed: true, value: 'is_start ? d_ix0 : is_ix' });
  m.wire('e_rowbase', d.INP_AW, { value: 'is_start ? d_rowbase0 : is_rowbase' });
  m.wire('e_acc', g.acc, { value: 'is_start ? d_acc : is_acc' });
  m.wire('e_row_end', 1, { value: "e_x == d_out_w - 1'b1" });
  m.wire('e_pass_end', 1, { value: "e_row_end && e_y == d_out_h - 1'b1" });
  m.wire('e_base', d.INP_AW, { value: 'e_rowbase + e_ix[INP_AW-1:0]', doc: 'INP entry of the pixel at tap (0, 0)' });
  m.wire('e_intile', d.R, { doc: "row r's input lies inside the tile and its tap exists" });
  m.assign('inp_re', 'e_valid');
  m.assign('array_active', 'e_valid');
  rowTaps(m, f);
  m.clocked('m1_intile <= e_intile;');
  m.clocked(`
    if (e_valid) begin
      is_active <= !e_pass_end;
      is_acc <= e_acc + 1'b1;
      if (e_row_end) begin
        is_x <= 0; is_y <= e_y + 1'b1; is_ix <= d_ix0;
        is_iy <= e_iy + $signed(${zext('d_sh', g.sh, d.IW)}); is_rowbase <= e_rowbase + d_rowstep;
      end else begin
        is_x <= e_x + 1'b1; is_y <= e_y; is_ix <= e_ix + $signed(${zext('d_sw', g.sw, d.IW)}); is_iy <= e_iy;
        is_rowbase <= e_rowbase;
      end
    end
    // bank j mod B is busy from its preload until arch.bankHold (C, or C + R/2 - 1 with a pair preload) cycles
    // after its pass's last issue
    if (pl_go) bank_inuse[pl_next_bank] <= 1'b1;
    if (e_valid && e_pass_end) bank_inuse[d_bank] <= 1'b0;
${perBank(f, 'bank_cnt')
  .map(
    (cnt, k) =>
      `    if (e_valid && e_pass_end && d_bank == ${f.arch.weightBanks === 3 ? `2'd${k}` : `1'b${k}`}) ${cnt} <= ${hold}; else if (${cnt} != 0) ${cnt} <= ${cnt} - 1'b1;`,
  )
  .join('\n')}
  `);
}

/**
 * Per array row: its tap in each weight bank (written by the row walk at PL + r), and at
 * issue its own INP address and padding test, the pixel's (y*stride - pad) plus its tap.
 */
function rowTaps(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const g = gemmWidths(f);
  const rt = rowTap(f);
  m.forEach('g_rows', 'gr', d.R, (b) => {
    b.regs(perBank(f, 'rk'), rt.width, { doc: "this row's tap in each weight bank" });
    b.clocked(`
      if (wk_step && (c_r == gr${pairPreload(f) ? ' || (pl_go && v_pair)' : ''})) begin ${bankCase(f, 'wk_bank', (k) => `rk${k} <= c_rt;`)} end
    `);
    b.wire('rk', rt.width, { value: bankMux(f, 'd_bank', perBank(f, 'rk')) });
    const t = rt.unpack(b, 'rk', 'rt');
    b.wire('iy', d.IW, { signed: true, value: `e_iy + $signed(${zext(t.kh.name, g.kh, d.IW)})` });
    b.wire('ix', d.IW, { signed: true, value: `e_ix + $signed(${zext(t.kw.name, g.kw, d.IW)})` });
    b.assign(
      'e_intile[gr]',
      `${t.v.name} && !iy[IW-1] && !ix[IW-1] && (iy < $signed(${zext('d_in_h', g.inH, d.IW)})) && ` +
        `(ix < $signed(${zext('d_in_w', g.inW, d.IW)}))`,
    );
    b.assign('inp_ra[gr*INP_AW +: INP_AW]', `e_base + ${t.off.name}`);
  });
}

function delayLine(m: VerilogModule, f: CoreFacts): void {
  const meta = pixelMeta(f);
  const MW = f.c.define('MW', meta.width, 'pixel metadata bits');
  m.section('pixel metadata delay line (stage k = cycle IS+p+k)');
  m.comment(`pixel metadata, msb first: ${meta.describe()}`);
  m.wire('e_meta', MW, {
    value: meta.pack({
      asig: 'd_asig',
      nib: 'd_nib',
      bank: 'd_bank',
      acc: 'e_acc',
      ovw: 'd_ovw',
      psh: 'd_psh',
      last: 'e_pass_end && d_last',
      idx: 'd_idx',
      pp: 'd_pp',
      pn: 'd_pn',
    }),
  });
  m.comment('stage k of the line is dlv[k*MW +: MW] (stage 0 = the pixel being issued); one register per stage');
  m.wire('dlv', MW.times(1).plus(Dim.product(MW, f.d.G)));
  m.assign('dlv[MW-1:0]', 'e_meta');
  m.forEach('g_dl', 'gd', f.d.G, (b) => {
    b.reg('m', MW);
    b.clocked('m <= dlv[gd*MW +: MW];');
    b.assign('dlv[(gd+1)*MW +: MW]', 'm');
  });
  m.clocked('dl_v <= {dl_v[G-1:1], e_valid};');
  const at = (stage: string, field: Parameters<typeof meta.field>[0]) => meta.sliceAt('dlv', stage, field);
  m.assign('m1_asig', at('MW', 'asig'));
  if (f.nibbleLanes) m.assign('m1_nib', at('MW', 'nib'));
  m.assign('m1_bank', at('MW', 'bank'));
  m.wire('mW_acc', f.d.ACC_AW, { value: at('(R+C+1)*MW', 'acc') });
  m.wire('mW_ovw', 1, { value: at('(R+C+1)*MW', 'ovw') });
  m.wire('mW_psh', meta.field('psh').width, { value: at('(R+C+1)*MW', 'psh') });
  m.assign('gemm_acc_re', 'dl_v[R+C]');
  m.assign('gemm_acc_ra', at('(R+C)*MW', 'acc'));
  m.wire('mG_last', 1, { value: at('G*MW', 'last') });
  m.assign('g_ret', 'dl_v[G] && mG_last');
  m.assign('g_ret_idx', at('G*MW', 'idx'));
  m.assign('g_ret_pp', at('G*MW', 'pp'));
  m.assign('g_ret_pn', at('G*MW', 'pn'));
}

function accWriteback(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.section('ACC read-modify-write');
  // accumulator overflow (docs/rtl.md, "Compute unit"): each lane's exact sum old + (col_sum << psh), in bits
  // enough for the largest pshift; one outside the ACCB-bit range sets the sticky acc_ovf (the ACC keeps the
  // low ACCB bits), where the simulator and the reference refuse the program
  const ovw = Math.max(d.ACCB.value, d.CW.value + 2 ** gemmWidths(f).psh - 1) + 1;
  m.wire('ovf_lane', d.C, { doc: "this lane's sum leaves the ACCB-bit range" });
  m.wire('gemm_wd', d.ACC_W);
  m.reg('byp_v');
  m.reg('byp_d', d.ACC_W);
  m.wire('acc_old', d.ACC_W, { value: 'byp_v ? byp_d : acc_q' });
  m.forEach('g_rmw', 'gc', d.C, (b) => {
    b.wire('col_sum', d.CW, { signed: true, value: 'col_sums[gc*CW +: CW]' });
    b.wire('ext', d.ACCB, {
      value: d.CW.value >= d.ACCB.value ? 'col_sum[ACCB-1:0]' : sext('col_sum', d.CW, d.ACCB),
    });
    b.wire('old', d.ACCB, { value: "mW_ovw ? {ACCB{1'b0}} : acc_old[gc*ACCB +: ACCB]" });
    b.assign('gemm_wd[gc*ACCB +: ACCB]', 'old + (ext << mW_psh)');
    b.wire('exact', ovw, { value: `${sext('old', d.ACCB, ovw)} + (${sext('col_sum', d.CW, ovw)} << mW_psh)` });
    const top = d.ACCB.value - 1;
    b.assign('ovf_lane[gc]', `exact != {{${ovw - d.ACCB.value}{exact[${top}]}}, exact[${top}:0]}`);
  });
  m.clocked(`if (acc_we && |ovf_lane) acc_ovf <= 1'b1;`);
  m.assign('acc_we', '!rst && dl_v[R+C+1]');
  m.assign('acc_wa', 'mW_acc');
  m.assign('acc_wd', 'gemm_wd');
  m.clocked(`
    byp_v <= acc_we && acc_re && acc_wa == acc_ra;
    byp_d <= acc_wd;
  `);
}

export function gemmModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_gemm',
    'GEMM controller: preload engine, pass FIFO, issue engine, metadata delay line and ACC\n' +
      'read-modify-write around nibble_array (docs/rtl.md, "Compute unit").',
    f.c,
  );
  ports(m, f);
  m.section('banks and activity');
  m.reg('bank_inuse', d.WBANKS);
  m.regs(perBank(f, 'bank_cnt'), bankCountBits(f));
  const free = perBank(f, 'bank_cnt').map((cnt, k) => `!bank_inuse[${k}] && ${cnt} == 0`);
  m.wire('bank_free', d.WBANKS, { value: `{${free.reverse().join(', ')}}` });
  m.regs(['pl_active', 'pl_more', 'is_active']);
  m.reg('pl_next_bank', bankBits(f));
  m.reg('pf_cnt', pfCountBits(f), { doc: 'passes in the pass FIFO: 0..WBANKS' });
  m.reg('dl_v', d.G, { lsb: 1, doc: 'dl_v[k]: a pixel is at delay-line stage k' });
  m.assign('gemm_any', 'pl_active || pl_more || pf_cnt != 0 || is_active || (|dl_v)');
  m.assign('gemm_ready', '!pl_active && !pl_more && bank_free[pl_next_bank]');
  m.section('preload engine (one pass = R WGT reads)');
  passSelect(m, f);
  preloadEngine(m, f);
  rowWalk(m, f);
  passFifo(m, f);
  issueEngine(m, f);
  delayLine(m, f);
  accWriteback(m, f);
  return m;
}
