/**
 * nibble_fetch, fetch and dispatch (docs/architecture.md section 3): one word
 * per cycle from the instruction port into the queue of its unit; a full
 * queue holds the word (and everything behind it); HALT or an illegal word
 * stops fetch. Also the run state and `done`. With the instruction handshake
 * (RtlOptions.insnHandshake) a read counts only when `insn_gnt` is high, so a
 * streaming instruction buffer can hold fetch until its word has arrived.
 */
import { MNEMONICS, UNITS, type Mnemonic } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { lit, zext } from '../emit/width.js';
import { TARGETS, type Target } from '../isa-view.js';
import { QUEUE_PREFIX } from './tokens.js';

/** `case (f_op)` items: opcodes grouped by target, in table order. */
function dispatchCases(f: CoreFacts): string[] {
  const tgt = (t: Target) => lit(f.d.TGT_W, TARGETS.indexOf(t));
  const opc = (m: Mnemonic) => lit(f.d.OPC_W, f.isa.opcodeOf(m));
  const groups = new Map<string, Mnemonic[]>();
  for (const m of MNEMONICS) {
    const t = f.isa.targetOf(m);
    const rhs =
      t === 'field'
        ? `(f_nop_unit > ${UNITS.length - 1}) ? ${tgt('illegal')} : ${zext('f_nop_unit', f.isa.width('NOP', 'unit'), f.d.TGT_W)}`
        : tgt(t);
    groups.set(rhs, [...(groups.get(rhs) ?? []), m]);
  }
  for (const u of UNITS)
    if (f.isa.nopUnitCode(u) !== TARGETS.indexOf(u))
      throw new Error(`internal: NOP.unit code of ${u} differs from its dispatch target code`);
  return [...groups].map(([rhs, ops]) => `${ops.map(opc).join(', ')}: f_tgt = ${rhs};`);
}

/** The instruction handshake (RtlOptions.insnHandshake): a read the memory does not grant is repeated next cycle. */
export const INSN_GNT_DOC = "the memory takes this cycle's read: insn_data holds word insn_addr next cycle";

export function fetchModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_fetch',
    'Fetch and dispatch: one instruction word per cycle into the queue of its unit; run state and done.',
    f.c,
  );
  m.input('clk');
  m.input('rst');
  m.input('start');
  m.output('running', 1, { reg: true });
  m.output('done');
  m.output('err', 1, { reg: true, doc: 'an illegal word was fetched' });
  m.input('all_idle', 1, { doc: 'queues empty and every unit idle' });
  m.portGroup('instruction port: word insn_addr appears on insn_data the cycle after insn_rd');
  m.output('insn_rd');
  m.output('insn_addr', d.IX);
  m.input('insn_data', d.INSN_W);
  if (f.opts.insnHandshake) m.input('insn_gnt', 1, { doc: INSN_GNT_DOC });
  m.portGroup('dispatch into the queues');
  for (const u of UNITS) m.input(`${QUEUE_PREFIX[u]}_full`);
  for (const u of UNITS) m.output(`${QUEUE_PREFIX[u]}_push`);
  m.output('f_entry', d.QW, { doc: 'the queue entry: instruction index and word' });
  m.output('tr_disp');
  m.output('tr_disp_idx', d.IX);
  m.reg('halted');
  m.reg('fv', 1, { doc: 'insn_data holds word fidx' });
  m.reg('fidx', d.IX);
  const head = f.isa.entryView('NOP', d.IX.value);
  m.wire('f_op', d.OPC_W, { value: head.slice('insn_data', 'opcode') });
  m.wire('f_nop_unit', f.isa.width('NOP', 'unit'), { value: head.slice('insn_data', 'unit') });
  m.comment(`target: ${TARGETS.map((t, i) => `${i} ${t}`).join(', ')}`);
  m.reg('f_tgt', d.TGT_W);
  m.comb(`
    case (f_op)
${dispatchCases(f)
  .map((c) => `      ${c}`)
  .join('\n')}
      default: f_tgt = ${lit(d.TGT_W, TARGETS.indexOf('illegal'))};  // an opcode the table does not define
    endcase
  `);
  const tgt = (t: Target) => `f_tgt == ${lit(d.TGT_W, TARGETS.indexOf(t))}`;
  m.wire('f_space', 1, {
    value: `${UNITS.map((u) => `(${tgt(u)}) ? !${QUEUE_PREFIX[u]}_full : `).join('')}1'b1`,
  });
  m.wire('f_fire', 1, { value: 'running && fv && !halted && f_space' });
  for (const u of UNITS) m.assign(`${QUEUE_PREFIX[u]}_push`, `f_fire && ${tgt(u)}`);
  m.assign('f_entry', f.entry.pack({ idx: 'fidx', word: 'insn_data' }));
  m.assign('insn_rd', 'running && !halted');
  m.assign('insn_addr', "f_fire ? fidx + 1'b1 : fidx");
  m.assign('tr_disp', 'f_fire');
  m.assign('tr_disp_idx', 'fidx');
  m.assign('done', 'running && halted && all_idle');
  m.clocked(`
    if (start) running <= 1'b1;
    if (running && !halted) fv <= ${f.opts.insnHandshake ? 'insn_gnt' : "1'b1"};
    if (f_fire) begin
      fidx <= fidx + 1'b1;
      if (${tgt('halt')} || ${tgt('illegal')}) begin halted <= 1'b1; fv <= 1'b0; end
      if (${tgt('illegal')}) err <= 1'b1;
    end
  `);
  return m;
}
