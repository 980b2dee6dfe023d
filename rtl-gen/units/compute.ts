/**
 * nibble_compute, the compute unit: decodes its queue head, starts a GEMM
 * (nibble_gemm + nibble_array) or a REQUANT / POOL (nibble_requant) when the
 * tokens and the units allow (with config gemmBeside, a GEMM beside a running
 * REQUANT with gemm_beside, each on its own ACC read port; else they share the
 * port), retires a compute NOP at once, and
 * reports every retire with its instruction index, in order.
 */
import type { MnemonicOn } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { lit } from '../emit/width.js';
import { builtReaders, readPort, traceEvents, tracePorts, unitPorts, writePort } from './ports.js';
import { NOT_REQUANT_UNIT_HEAD, REQUANT_UNIT_HEAD, REQUANT_UNIT_HEADS } from './requant.js';
import { tokenEvents, tokensReady } from './tokens.js';

/**
 * The decode wire of every compute opcode: GEMM's, and those of the opcodes
 * the requant unit runs (REQUANT_UNIT_HEADS, where a new compute opcode gets
 * its wire and its datapath; docs/extending.md).
 */
const COMPUTE_HEADS = { GEMM: 'ch_gemm', ...REQUANT_UNIT_HEADS } as const satisfies Record<
  MnemonicOn<'compute'>,
  string
>;

function ports(m: VerilogModule, f: CoreFacts): void {
  unitPorts(m, f, 'compute', { decodesPart: false, busyReg: false });
  m.portGroup('scratchpad ports');
  const readers = ['inp', 'wgt', 'acc', 'accr', 'par', 'outp'] as const;
  for (const r of readers.filter((x) => builtReaders(f).includes(x))) readPort(m, f, r);
  if (f.arch.pairPreload) m.input('wgt_q2', f.d.WGT_W, { doc: 'config fastPreload: the WGT entry after wgt_q' });
  writePort(m, f, 'acc');
  writePort(m, f, 'out');
  m.portGroup('activity and trace');
  m.output('array_active', 1, { doc: 'a pixel is issued into the array this cycle' });
  m.output('acc_ovf', 1, { doc: 'sticky: a GEMM wrote an ACC lane outside the accumulator range' });
  tracePorts(m, f, 'cp', ['start', 'ret']);
}

export function computeModule(
  f: CoreFacts,
  units: { gemm: VerilogModule; array: VerilogModule; requant: VerilogModule },
): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_compute',
    'Compute unit: GEMM on the systolic array, REQUANT / POOL, compute NOP (docs/rtl.md, "Compute unit").',
    f.c,
  );
  ports(m, f);
  const head = f.isa.entryView('GEMM', d.IX.value);
  m.wire('ch_op', d.OPC_W, { value: head.slice('cq_head', 'opcode') });
  for (const [op, name] of Object.entries(COMPUTE_HEADS) as [keyof typeof COMPUTE_HEADS, string][])
    m.wire(name, 1, { value: `ch_op == ${lit(d.OPC_W, f.isa.opcodeOf(op))}` });
  m.wire('ch_idx', d.IX, { value: head.slice('cq_head', 'idx') });
  m.wire('cp_tok', 1, { value: tokensReady(f, 'compute', head, 'cq_head') });
  const gb = f.cfg.gemmBeside;
  m.comment(
    gb
      ? 'a GEMM starts while an earlier one drains (its next bank free), and the first one after a REQUANT with\n' +
          'gemm_beside while that runs; anything else waits for the array to drain and every retire to be reported'
      : 'a GEMM starts while an earlier one drains (its next bank free); anything else waits for the array to drain',
  );
  if (gb) m.reg('rq_side', 1, { doc: 'a GEMM has started beside the running REQUANT' });
  m.wire('cp_start_gemm', 1, {
    value: gb
      ? 'running && cq_ne && ch_gemm && cp_tok && gemm_ready && (!ng_busy || (ng_gb && !rq_side))'
      : 'running && cq_ne && ch_gemm && cp_tok && !ng_busy && gemm_ready',
  });
  const held = gb ? ' || gh_held' : '';
  m.wire('cp_start_ng', 1, {
    value: `running && cq_ne && !ch_gemm && cp_tok && !ng_busy && !gemm_any${gb ? ' && !gh_held' : ''}`,
  });
  m.wire('cp_start_nop', 1, { value: `cp_start_ng && ${NOT_REQUANT_UNIT_HEAD}` });
  m.assign('cp_start', 'cp_start_gemm || cp_start_ng');
  m.assign('cp_busy', `ng_busy || gemm_any${held}`);
  m.section('GEMM and the array; REQUANT / POOL');
  m.instance(units.gemm, 'u_gemm', { ports: { gemm_start: 'cp_start_gemm' } });
  m.instance(units.array, 'u_array');
  m.instance(units.requant, 'u_rq', {
    ports: { ng_start: 'cp_start_ng' },
  });
  m.comment(
    gb
      ? 'ACC read ports: the GEMM read-modify-write on acc_*, the REQUANT on accr_* (its own RAM)'
      : 'the ACC read port: REQUANT while it runs, else the GEMM read-modify-write',
  );
  m.assign('acc_re', gb ? 'gemm_acc_re' : 'ng_rq ? rq_acc_re : gemm_acc_re');
  m.assign('acc_ra', gb ? 'gemm_acc_ra' : 'ng_rq ? rq_acc_ra : gemm_acc_ra');
  m.section('retire');
  m.reg('ng_idx', d.IX, { doc: 'index and push flags of the REQUANT / POOL in flight' });
  m.regs(['ng_pp', 'ng_pn']);
  m.clocked(`
    if (cp_start_ng && ${REQUANT_UNIT_HEAD}) begin
      ng_idx <= ch_idx; ng_pp <= ${head.slice('cq_head', 'push_prev')}; ng_pn <= ${head.slice('cq_head', 'push_next')};
    end
  `);
  const gr = gb ? heldRetire(m, f) : { now: 'g_ret', idx: 'g_ret_idx', pp: 'g_ret_pp', pn: 'g_ret_pn' };
  m.wire('cp_ret', 1, { value: `cp_start_nop || ${gr.now} || ng_done` });
  traceEvents(m, 'cp', {
    headIdx: 'ch_idx',
    ret: 'cp_ret',
    retIdx: `cp_start_nop ? ch_idx : ${gr.now} ? ${gr.idx} : ng_idx`,
  });
  const retFlag = { push_prev: [gr.pp, 'ng_pp'], push_next: [gr.pn, 'ng_pn'] } as const;
  tokenEvents(m, f, 'compute', 'cp_start', head, 'cq_head', 'cp_ret', (flag) => {
    const [g, n] = retFlag[flag as keyof typeof retFlag];
    return `(cp_start_nop ? ${head.slice('cq_head', flag)} : ${gr.now} ? ${g} : ${n})`;
  });
  return m;
}

/**
 * Config gemmBeside: a GEMM beside a REQUANT that drains first retires after it (in order, one retire a
 * cycle), held until then; and rq_side, one GEMM beside each REQUANT. The GEMM's retire wires it reports.
 */
function heldRetire(m: VerilogModule, f: CoreFacts): { now: string; idx: string; pp: string; pn: string } {
  m.comment(
    'a GEMM beside a REQUANT that drains first retires after it (in order, one retire a cycle): held until then',
  );
  m.reg('gh_held', 1, { doc: 'a drained GEMM waits for the REQUANT beside it to retire' });
  m.reg('gh_idx', f.d.IX);
  m.regs(['gh_pp', 'gh_pn']);
  m.clocked(`
    if (cp_start_gemm && ng_busy) rq_side <= 1'b1;
    else if (!ng_busy) rq_side <= 1'b0;
    if (g_ret && ng_busy) begin
      gh_held <= 1'b1; gh_idx <= g_ret_idx; gh_pp <= g_ret_pp; gh_pn <= g_ret_pn;
    end else if (!ng_busy) gh_held <= 1'b0;
  `);
  m.wire('gr_now', 1, { value: '(g_ret || gh_held) && !ng_busy' });
  m.wire('gr_idx', f.d.IX, { value: 'gh_held ? gh_idx : g_ret_idx' });
  m.wire('gr_pp', 1, { value: 'gh_held ? gh_pp : g_ret_pp' });
  m.wire('gr_pn', 1, { value: 'gh_held ? gh_pn : g_ret_pn' });
  return { now: 'gr_now', idx: 'gr_idx', pp: 'gr_pp', pn: 'gr_pn' };
}
