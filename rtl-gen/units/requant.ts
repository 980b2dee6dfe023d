/**
 * REQUANT and POOL (docs/rtl.md, "Requant lane", "POOL"): nibble_requant_lane,
 * one lane's shift-batch-norm requant `clamp(floor((m - bias) / 2^shift))` in
 * `requantStages` registers, and nibble_requant, the window address generator
 * over ACC or OUT, the C lanes (window max, requant, pool max) and the OUT write.
 */
import type { MnemonicOn } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { lit, sext, zext, type Width } from '../emit/width.js';
import { readPort, requantAccPort, writePort } from './ports.js';

/**
 * One requant lane. Widths are cut to what the clamp can observe (its bounds
 * fit CLAMP_W signed bits):
 *  - v = m - bias is exact in DIFF_W bits;
 *  - right shift: DIFF_W-bit arithmetic shift, amount capped at DIFF_W-1;
 *  - left shift (saturating): if v fits CLAMP_W signed bits the shift by at most
 *    CLAMP_W-1 is exact in 2 CLAMP_W - 1 bits; otherwise v already lies beyond the
 *    clamp range with the right sign, and so does v itself (larger amounts likewise);
 *  - clamp: a value outside CLAMP_W signed bits clamps by its sign; inside, two
 *    CLAMP_W-bit comparisons decide.
 */
export function requantLaneModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_requant_lane',
    `One requant lane: y = clamp(floor((mx - bias) / 2^shift), lo, hi), ${f.requantPlan.length} register stage(s)\n` +
      `(stage plan: ${f.requantPlan.map((s) => s.join('+') || 'delay').join(' | ')}).`,
    f.c,
  );
  m.input('clk');
  m.input('rst');
  m.input('mx', d.ACCB, { signed: true, doc: 'the window maximum of the accumulators' });
  m.input('par', d.PKEEP_W, { doc: 'the PARAM lane: bias and shift' });
  m.input('hi', d.CLAMP_W, { doc: 'clamp bounds (signed)' });
  m.input('lo', d.CLAMP_W);
  m.output('y', d.AB);
  const C = d.CLAMP_W.value;
  const S = d.SHIFT_W.value;
  const DIFF = d.DIFF_W.value;
  m.wire('shf', d.SHIFT_W, { signed: true, value: '$signed(par[SHIFT_LSB +: SHIFT_W])' });
  m.wire('bias', d.BIAS_W, { signed: true, value: '$signed(par[BIAS_LSB +: BIAS_W])' });
  m.wire('rs', d.RS_W, {
    value: `shf[SHIFT_W-1] ? ${lit(d.RS_W, 0)} : (shf > ${S}'sd${DIFF - 1} ? ${lit(d.RS_W, DIFF - 1)} : shf[RS_W-1:0])`,
  });
  m.wire('nshf', d.SHIFT_W.plus(1), { value: `${lit(S + 1, 0)} - {shf[SHIFT_W-1], shf}` });
  m.wire('ls', d.LS_W, {
    value: `shf[SHIFT_W-1] ? (nshf > ${lit(S + 1, C - 1)} ? ${lit(d.LS_W, C - 1)} : nshf[LS_W-1:0]) : ${lit(d.LS_W, 0)}`,
  });
  /** v fits CLAMP_W signed bits */
  const fits = (x: string) => `${x}[DIFF_W-1:CLAMP_W-1] == {(DIFF_W-CLAMP_W+1){${x}[CLAMP_W-1]}}`;
  const left = (k: number, x: string) => {
    m.wire(`s${k}_fit`, 1, { value: fits(x) });
    m.wire(`s${k}_lin`, 2 * C - 1, { signed: true, value: sext(`${x}_lo`, C, 2 * C - 1) });
    m.wire(`s${k}_l`, 2 * C - 1, { signed: true, value: `s${k}_lin <<< ls` });
    m.wire(`s${k}_left`, d.DIFF_W, { signed: true, value: `s${k}_fit ? ${sext(`s${k}_l`, 2 * C - 1, DIFF)} : ${x}` });
    return `s${k}_left`;
  };
  const lowBits = (x: string) => m.wire(`${x}_lo`, d.CLAMP_W, { signed: true, value: `${x}[CLAMP_W-1:0]` });
  const split = Math.floor(d.RS_W.value / 2); // stage plans of 4+: shift by the high bits, then by the low bits
  let cur = 'mx';
  let kind: 'm' | 'v' | 'y' = 'm';
  f.requantPlan.forEach((ops, si) => {
    const k = si + 1;
    let x = cur;
    for (const op of ops) {
      if (op === 'sub') {
        m.wire(`s${k}_sub`, d.DIFF_W, {
          signed: true,
          value: `${sext(x, d.ACCB, d.DIFF_W)} - ${sext('bias', d.BIAS_W, d.DIFF_W)}`,
        });
        x = `s${k}_sub`;
        kind = 'v';
      } else if (op === 'shift' || op === 'shiftHi') {
        lowBits(x);
        const l = left(k, x);
        const amt = op === 'shift' ? 'rs' : `{rs[RS_W-1:${split}], ${split}'b0}`;
        m.wire(`s${k}_sh`, d.DIFF_W, { signed: true, value: `shf[SHIFT_W-1] ? ${l} : (${x} >>> ${amt})` });
        x = `s${k}_sh`;
      } else if (op === 'shiftLo') {
        m.wire(`s${k}_sl`, d.DIFF_W, {
          signed: true,
          value: `shf[SHIFT_W-1] ? ${x} : (${x} >>> ${zext(`rs[${split - 1}:0]`, split, d.RS_W)})`,
        });
        x = `s${k}_sl`;
      } else if (op === 'clamp') {
        m.wire(`s${k}_cf`, 1, { value: fits(x) });
        m.wire(`s${k}_cv`, d.CLAMP_W, { signed: true, value: `${x}[CLAMP_W-1:0]` });
        m.wire(`s${k}_over`, 1, { value: `s${k}_cf ? (s${k}_cv > $signed(hi)) : !${x}[DIFF_W-1]` });
        m.wire(`s${k}_under`, 1, { value: `s${k}_cf ? (s${k}_cv < $signed(lo)) : ${x}[DIFF_W-1]` });
        m.wire(`s${k}_cl`, d.AB, {
          value: `s${k}_over ? hi[AB-1:0] : s${k}_under ? lo[AB-1:0] : ${x}[AB-1:0]`,
        });
        x = `s${k}_cl`;
        kind = 'y';
      } else throw new Error(`internal: unknown requant stage operation '${op}'`);
    }
    const w: Width = kind === 'm' ? d.ACCB : kind === 'v' ? d.DIFF_W : d.AB;
    m.reg(`r${k}`, w, { signed: kind !== 'y' });
    m.clocked(`r${k} <= ${x};`);
    cur = `r${k}`;
  });
  m.assign('y', cur);
  return m;
}

/**
 * The opcodes this unit runs, with their decode wires: every compute opcode
 * but GEMM (the gemm unit's). compute.ts decodes them and tells them from a
 * compute NOP by this list. A new compute opcode is a compile error here until
 * it has a wire, and then needs its datapath in this file (docs/extending.md).
 * Declared with its type, not `satisfies`: a missing opcode fails here only,
 * not again in compute.ts.
 */
export const REQUANT_UNIT_HEADS: Readonly<Record<Exclude<MnemonicOn<'compute'>, 'GEMM'>, string>> = {
  REQUANT: 'ch_rq',
  POOL: 'ch_pool',
};
const HEAD_WIRES: readonly string[] = Object.values(REQUANT_UNIT_HEADS);
/** Verilog: the compute queue head is one of this unit's opcodes */
export const REQUANT_UNIT_HEAD = `(${HEAD_WIRES.join(' || ')})`;
/** Verilog: the compute queue head is none of this unit's opcodes */
export const NOT_REQUANT_UNIT_HEAD = HEAD_WIRES.map((w) => `!${w}`).join(' && ');

function requantPorts(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.input('clk');
  m.input('rst');
  m.input('ng_start', 1, { doc: 'the compute queue head, not a GEMM, starts this cycle' });
  for (const [op, wire] of Object.entries(REQUANT_UNIT_HEADS)) m.input(wire, 1, { doc: `the head is a ${op}` });
  m.input('cq_head', d.QW, { lintOff: ['UNUSEDSIGNAL'], doc: 'REQUANT / POOL fields decoded here' });
  m.output('ng_busy', 1, { reg: true, doc: 'a REQUANT or POOL is running' });
  if (f.cfg.gemmBeside)
    m.output('ng_gb', 1, { reg: true, doc: 'it is a REQUANT with gemm_beside: the next GEMM may start beside it' });
  else m.output('ng_rq', 1, { reg: true, doc: 'it is a REQUANT: the ACC read port is ours' });
  m.output('ng_done', 1, { doc: 'its last output is written this cycle' });
  m.portGroup('reads');
  const acc = requantAccPort(f);
  readPort(m, f, acc.reader, 'unit', acc.prefix);
  readPort(m, f, 'par');
  readPort(m, f, 'outp');
  m.portGroup('OUT write');
  writePort(m, f, 'out');
}

/** The fields both operations share must have one width: the window generator holds either. */
function sharedWidth(f: CoreFacts, field: string): number {
  const a = f.isa.width('REQUANT', field);
  const b = f.isa.width('POOL', field);
  if (a !== b)
    throw new Error(`internal: REQUANT.${field} has ${a} bits, POOL.${field} ${b}: the window generator needs one`);
  return a;
}

function windowGenerator(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const K = sharedWidth(f, 'pool_k');
  const S = sharedWidth(f, 'pool_s');
  const dims = ['in_w', 'out_h', 'out_w'].map((x) => sharedWidth(f, x));
  if (dims.some((x) => x !== d.ODIMB.value)) throw new Error('internal: REQUANT/POOL dimensions must have ODIMB bits');
  m.section('window address generator (ACC for REQUANT, OUT for POOL)');
  m.comment('in_h of REQUANT/POOL only bounds the source tile (checked by the simulator); the address walk needs in_w');
  f.isa
    .entryView('REQUANT', d.IX.value)
    .unpack(m, 'cq_head', 'rh', [
      'acc_addr',
      'out_addr',
      'param_addr',
      'in_w',
      'out_h',
      'out_w',
      'pool_k',
      'pool_s',
      'out_signed',
      'clamp_bits',
      ...(f.cfg.gemmBeside ? ['gemm_beside'] : []),
    ]);
  f.isa
    .entryView('POOL', d.IX.value)
    .unpack(m, 'cq_head', 'ph', ['src_addr', 'dst_addr', 'in_w', 'out_h', 'out_w', 'pool_k', 'pool_s', 'act_signed']);
  if (f.cfg.gemmBeside) m.reg('ng_rq', 1, { doc: 'it is a REQUANT' });
  m.regs(['ng_pool', 'rq_go_d', 'ng_pasig']);
  m.reg('rq_base', d.ACC_AW);
  m.regs(['rq_in_w', 'rq_oh', 'rq_ow'], d.ODIMB);
  m.reg('rq_k', K);
  m.reg('rq_s', S);
  m.regs(['rq_hi', 'rq_lo'], d.CLAMP_W);
  m.wire('rq_start', 1, { value: 'ng_start && ch_rq' });
  m.wire('pool_start', 1, { value: 'ng_start && ch_pool' });
  m.wire('wg_go', 1, { value: 'rq_go_d || pool_start' });
  m.wire('p_base', d.GA, {
    value: `rq_go_d ? ${zext('rq_base', d.ACC_AW, d.GA)} : ${zext('ph_src_addr', d.OUT_AW, d.GA)}`,
  });
  m.wire('p_in_w', d.ODIMB, { value: 'rq_go_d ? rq_in_w : ph_in_w' });
  m.wire('p_oh', d.ODIMB, { value: 'rq_go_d ? rq_oh : ph_out_h' });
  m.wire('p_ow', d.ODIMB, { value: 'rq_go_d ? rq_ow : ph_out_w' });
  m.wire('p_k', K, { value: 'rq_go_d ? rq_k : ph_pool_k' });
  m.wire('p_s', S, { value: 'rq_go_d ? rq_s : ph_pool_s' });
  m.reg('wg_active');
  m.regs(['wg_addr', 'wg_rowptr', 'wg_win', 'wg_rowstart'], d.GA);
  m.regs(['wg_in_w', 'wg_oh', 'wg_ow', 'wg_ox', 'wg_oy'], d.ODIMB);
  m.regs(['wg_k', 'wg_kx', 'wg_ky'], K);
  m.reg('wg_s', S);
  m.wire('w_valid', 1, { value: 'wg_go || wg_active' });
  for (const [name, w] of [
    ['addr', d.GA],
    ['rowptr', d.GA],
    ['win', d.GA],
    ['rowstart', d.GA],
  ] as const)
    m.wire(`w_${name}`, w, { value: `wg_go ? p_base : wg_${name}` });
  m.wire('w_in_w', d.ODIMB, { value: 'wg_go ? p_in_w : wg_in_w' });
  m.wire('w_oh', d.ODIMB, { value: 'wg_go ? p_oh : wg_oh' });
  m.wire('w_ow', d.ODIMB, { value: 'wg_go ? p_ow : wg_ow' });
  m.wire('w_k', K, { value: 'wg_go ? p_k : wg_k' });
  m.wire('w_s', S, { value: 'wg_go ? p_s : wg_s' });
  m.wire('w_kx', K, { value: `wg_go ? ${lit(K, 0)} : wg_kx` });
  m.wire('w_ky', K, { value: `wg_go ? ${lit(K, 0)} : wg_ky` });
  m.wire('w_ox', d.ODIMB, { value: 'wg_go ? 0 : wg_ox' });
  m.wire('w_oy', d.ODIMB, { value: 'wg_go ? 0 : wg_oy' });
  m.wire('w_first', 1, { value: 'w_kx == 0 && w_ky == 0' });
  m.wire('w_kx_end', 1, { value: "w_kx == w_k - 1'b1" });
  m.wire('w_last', 1, { value: "w_kx_end && w_ky == w_k - 1'b1" });
  m.wire('w_ox_end', 1, { value: "w_ox == w_ow - 1'b1" });
  m.wire('w_last_all', 1, { value: "w_last && w_ox_end && w_oy == w_oh - 1'b1" });
  m.wire('w_in_w_a', d.GA, { value: zext('w_in_w', d.ODIMB, d.GA) });
  m.wire('w_srow', d.GA, { value: 'w_in_w_a * w_s' });
  const step = zext('w_s', S, d.GA);
  m.clocked(`
    if (w_valid) begin
      wg_in_w <= w_in_w; wg_oh <= w_oh; wg_ow <= w_ow; wg_k <= w_k; wg_s <= w_s;
      wg_active <= !w_last_all;
      if (!w_last) begin
        if (w_kx_end) begin
          wg_kx <= 0; wg_ky <= w_ky + 1'b1; wg_rowptr <= w_rowptr + w_in_w_a; wg_addr <= w_rowptr + w_in_w_a;
        end else begin
          wg_kx <= w_kx + 1'b1; wg_ky <= w_ky; wg_rowptr <= w_rowptr; wg_addr <= w_addr + 1'b1;
        end
        wg_win <= w_win; wg_rowstart <= w_rowstart; wg_ox <= w_ox; wg_oy <= w_oy;
      end else begin
        wg_kx <= 0; wg_ky <= 0;
        if (w_ox_end) begin
          wg_ox <= 0; wg_oy <= w_oy + 1'b1;
          wg_rowstart <= w_rowstart + w_srow; wg_win <= w_rowstart + w_srow;
          wg_rowptr <= w_rowstart + w_srow; wg_addr <= w_rowstart + w_srow;
        end else begin
          wg_ox <= w_ox + 1'b1; wg_oy <= w_oy; wg_rowstart <= w_rowstart;
          wg_win <= w_win + ${step}; wg_rowptr <= w_win + ${step}; wg_addr <= w_win + ${step};
        end
      end
    end
  `);
  const acc = requantAccPort(f).prefix;
  m.assign(`${acc}_re`, 'w_valid');
  m.assign(`${acc}_ra`, 'w_addr[ACC_AW-1:0]');
  m.assign('outp_re', '(ng_pool || pool_start) && w_valid');
  m.assign('outp_ra', 'w_addr[OUT_AW-1:0]');
  m.assign('par_re', 'rq_start');
  m.assign('par_ra', 'rh_param_addr');
  m.comment('read data arrives one cycle after the address');
  m.regs(['r_v', 'r_first', 'r_last', 'r_last_all']);
  m.clocked('r_v <= w_valid; r_first <= w_first; r_last <= w_last; r_last_all <= w_last_all;');
}

function lanes(m: VerilogModule, f: CoreFacts, lane: VerilogModule): void {
  const { d } = f;
  const S = f.requantPlan.length;
  m.section(`lanes: window max, requant (${S} register stage${S > 1 ? 's' : ''}), pool max`);
  m.wire('rq_y', d.OUT_W);
  m.reg('rqp_v', S, { lsb: 1 });
  m.reg('rqp_last', S, { lsb: 1 });
  m.wire('rq_in_v', 1, { value: 'ng_rq && r_v && r_last' });
  m.clocked(`
    rqp_v <= ${S === 1 ? 'rq_in_v' : `{rqp_v[${S - 1}:1], rq_in_v}`};
    rqp_last <= ${S === 1 ? 'r_last_all' : `{rqp_last[${S - 1}:1], r_last_all}`};
  `);
  m.wire('pool_y', d.OUT_W);
  m.forEach('g_lane', 'l', d.C, (b) => {
    b.wire('acc_l', d.ACCB, { signed: true, value: `$signed(${requantAccPort(f).reader}_q[l*ACCB +: ACCB])` });
    b.reg('mx_r', d.ACCB, { signed: true });
    b.wire('rq_mx_l', d.ACCB, { signed: true, value: '(r_first || acc_l > mx_r) ? acc_l : mx_r' });
    b.clocked('if (r_v) mx_r <= rq_mx_l;');
    b.instance(lane, 'u_lane', {
      ports: {
        clk: 'clk',
        rst: 'rst',
        mx: 'rq_mx_l',
        par: 'par_q[l*PKEEP_W +: PKEEP_W]',
        hi: 'rq_hi',
        lo: 'rq_lo',
        y: 'rq_y[l*AB +: AB]',
      },
    });
    b.comment('POOL lane: max of OUT activations (signed or unsigned)');
    b.wire('pv', d.AB, { value: 'outp_q[l*AB +: AB]' });
    b.reg('pmx_r', d.AB);
    b.wire('pv_k', d.AB.plus(1), { value: '{ng_pasig & pv[AB-1], pv}' });
    b.wire('pm_k', d.AB.plus(1), { value: '{ng_pasig & pmx_r[AB-1], pmx_r}' });
    b.wire('pmx', d.AB, { value: '(r_first || $signed(pv_k) > $signed(pm_k)) ? pv : pmx_r' });
    b.clocked('if (r_v) pmx_r <= pmx;');
    b.assign('pool_y[l*AB +: AB]', 'pmx_r');
  });
}

function outWrite(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const S = f.requantPlan.length;
  const C = d.CLAMP_W;
  m.section('OUT write and the unit state');
  m.regs(['pw_v', 'pw_last']);
  m.clocked('pw_v <= ng_pool && r_v && r_last; pw_last <= r_last_all;');
  m.reg('ow_ptr', d.OUT_AW);
  m.wire('rq_wr', 1, { value: `rqp_v[${S}]` });
  m.assign('out_we', '!rst && (rq_wr || pw_v)');
  m.assign('out_wa', 'ow_ptr');
  m.assign('out_wd', 'rq_wr ? rq_y : pool_y');
  m.assign('ng_done', `(rq_wr && rqp_last[${S}]) || (pw_v && pw_last)`);
  const one = lit(C, 1);
  const gb = f.cfg.gemmBeside;
  m.clocked(`
    rq_go_d <= rq_start;
    if (ng_start && ${REQUANT_UNIT_HEAD}) begin
      ng_busy <= 1'b1; ng_rq <= ch_rq;${gb ? ' ng_gb <= ch_rq && rh_gemm_beside;' : ''} ng_pool <= ch_pool; ng_pasig <= ph_act_signed;
      rq_base <= rh_acc_addr; rq_in_w <= rh_in_w; rq_oh <= rh_out_h; rq_ow <= rh_out_w; rq_k <= rh_pool_k; rq_s <= rh_pool_s;
      rq_hi <= rh_out_signed ? ((${one} << (rh_clamp_bits - 1'b1)) - ${one}) : ((${one} << rh_clamp_bits) - ${one});
      rq_lo <= rh_out_signed ? (${one} - (${one} << (rh_clamp_bits - 1'b1))) : ${lit(C, 0)};
      ow_ptr <= ch_rq ? rh_out_addr : ph_dst_addr;
    end else if (out_we) ow_ptr <= ow_ptr + 1'b1;
    if (ng_done) begin ng_busy <= 1'b0; ng_rq <= 1'b0;${gb ? " ng_gb <= 1'b0;" : ''} ng_pool <= 1'b0; end
  `);
}

export function requantModule(f: CoreFacts, lane: VerilogModule): VerilogModule {
  const m = new VerilogModule(
    'nibble_requant',
    'REQUANT / POOL unit: window address generator, C lanes (window max, requant, pool max), OUT write.',
    f.c,
  );
  requantPorts(m, f);
  windowGenerator(m, f);
  lanes(m, f, lane);
  outWrite(m, f);
  return m;
}
