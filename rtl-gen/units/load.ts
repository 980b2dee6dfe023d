/**
 * nibble_load, the LOAD unit (docs/architecture.md section 5): a 2-D strided DMA
 * from DRAM into INP, WGT or PARAM. The request side walks the rows; the
 * response side assembles each entry from its bus beats and writes it (an INP
 * entry through the replicate multiplexers of tap packing).
 */
import type { LoadBuffer, MnemonicOn } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { Dim, bitsFor, lit } from '../emit/width.js';
import { dramReadPorts, traceEvents, tracePorts, unitPorts, writePort } from './ports.js';
import { tokenEvents, tokensReady } from './tokens.js';

function ports(m: VerilogModule, f: CoreFacts): void {
  unitPorts(m, f, 'load', { decodesPart: true, busyReg: true });
  m.portGroup('DRAM read channel');
  dramReadPorts(m, f);
  m.portGroup('scratchpad writes');
  for (const b of ['inp', 'wgt', 'par'] as const) writePort(m, f, b);
  m.portGroup('trace');
  tracePorts(m, f, 'ld', ['start', 'ret']);
}

/** `(sel == code(b0)) ? v0 : (sel == code(b1)) ? v1 : v2` over the LOAD destinations. */
function byBuffer(f: CoreFacts, sel: string, value: (b: LoadBuffer) => string): string {
  const bufs = f.isa.buffers;
  const w = f.isa.width('LOAD', 'buf');
  return bufs
    .map((b, i) => (i === bufs.length - 1 ? value(b) : `(${sel} == ${lit(w, f.isa.bufferCode(b))}) ? ${value(b)} : `))
    .join('');
}

function requestSide(m: VerilogModule, f: CoreFacts): void {
  const { d, arch } = f;
  const bufW = f.isa.width('LOAD', 'buf');
  m.reg('ld_buf', bufW);
  m.reg('ld_idx', d.IX);
  m.reg('rq_addr', d.DAW);
  m.reg('rq_left', d.DIMB);
  m.reg('rq_stride', d.DAW);
  m.reg('rq_x', d.DIMB);
  m.wire('rq_addr_c', d.DAW, { value: 'ld_start_load ? lh_dram_addr : rq_addr' });
  m.wire('rq_left_c', d.DIMB, { value: 'ld_start_load ? lh_y_count : rq_left' });
  m.wire('rq_stride_c', d.DAW, { value: 'ld_start_load ? lh_dram_stride : rq_stride' });
  m.wire('rq_x_c', d.DIMB, { value: 'ld_start_load ? lh_x_count : rq_x' });
  m.wire('ld_buf_c', bufW, { value: 'ld_start_load ? lh_buf : ld_buf' });
  m.assign('rd_req_valid', '!rst && (ld_start_load || (ld_busy && rq_left != 0))');
  m.assign('rd_req_addr', 'rq_addr_c');
  m.assign('rd_req_entries', 'rq_x_c');
  const bytes: Record<LoadBuffer, number> = {
    inp: arch.inpEntryBytes,
    wgt: arch.wgtEntryBytes,
    param: arch.paramEntryBytes,
  };
  m.assign(
    'rd_req_entry_bytes',
    byBuffer(f, 'ld_buf_c', (b) => lit(d.EBW, bytes[b])),
  );
  m.assign('rd_resp_ready', "1'b1");
  m.wire('rq_fire', 1, { value: 'rd_req_valid && rd_req_ready' });
}

/**
 * LOAD replicate = g (INP only): lane l of the entry written is lane l mod g of the
 * entry read (0: lane l). Per lane a multiplexer over the g that move it, by source lane.
 */
function replicateLanes(m: VerilogModule, f: CoreFacts): void {
  const { arch, d } = f;
  const repW = d.REPW;
  m.reg('ld_rep', repW, { doc: 'replicate of the LOAD in flight' });
  const laneOf = (l: number) => `rs_entry[${l}*AB +: AB]`;
  for (let l = 0; l < arch.rows; l++) {
    const bySource = new Map<number, number[]>();
    for (let g = 1; g <= arch.maxTapLanes; g++) {
      const src = l % g;
      if (src !== l) bySource.set(src, [...(bySource.get(src) ?? []), g]);
    }
    const terms = [...bySource].map(
      ([src, gs]) => `(${gs.map((g) => `ld_rep == ${lit(repW, g)}`).join(' || ')}) ? ${laneOf(src)} : `,
    );
    m.assign(`inp_wd[${l}*AB +: AB]`, `${terms.join('')}${laneOf(l)}`);
  }
}

function responseSide(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  const slotW = bitsFor(d.BPE_MAX.value);
  const beats: Record<LoadBuffer, Dim> = { inp: d.BPE_INP, wgt: d.BPE_WGT, param: d.BPE_PAR };
  m.section('response side: entry assembly');
  m.reg('rs_slot', slotW);
  m.regs(['rs_x', 'rs_y'], d.DIMB, { doc: 'entries left in the row (counting down), rows left' });
  m.reg('rs_ptr', d.SRAM_AW);
  m.wire('rs_bpe', slotW, { value: byBuffer(f, 'ld_buf', (b) => String(beats[b])) });
  m.wire('rs_last_slot', 1, { value: "rs_slot == rs_bpe - 1'b1" });
  m.wire('rs_entry_done', 1, { value: 'ld_busy && rd_resp_valid && rs_last_slot' });
  m.wire('rs_all_done', 1, { value: 'rs_entry_done && rs_x == 1 && rs_y == 1' });
  m.lintOff(['UNUSEDSIGNAL'], () =>
    m.wire('rs_entry', Dim.product(d.BPE_MAX, d.BUSW), {
      doc: 'the PARAM padding bytes and the bus padding of the last beat are not stored',
    }),
  );
  m.forEach('g_slot', 'gs', d.BPE_MAX, (b) => {
    b.reg('slot_r', d.BUSW);
    b.clocked('if (ld_busy && rd_resp_valid && rs_slot == gs) slot_r <= rd_resp_data;');
    b.assign('rs_entry[gs*BUSW +: BUSW]', '(rs_slot == gs) ? rd_resp_data : slot_r');
  });
  m.comment('RAM contents are not reset: gate every write enable with rst so unreset state cannot write during reset');
  const ram: Record<LoadBuffer, string> = { inp: 'inp', wgt: 'wgt', param: 'par' };
  const bufW = f.isa.width('LOAD', 'buf');
  for (const b of f.isa.buffers)
    m.assign(`${ram[b]}_we`, `!rst && rs_entry_done && ld_buf == ${lit(bufW, f.isa.bufferCode(b))}`);
  m.assign('inp_wa', 'rs_ptr[INP_AW-1:0]');
  m.assign('wgt_wa', 'rs_ptr[WGT_AW-1:0]');
  m.assign('par_wa', 'rs_ptr[PAR_AW-1:0]');
  replicateLanes(m, f);
  m.assign('wgt_wd', 'rs_entry[WGT_W-1:0]');
  m.forEach('g_parw', 'gp', d.C, (b) => b.assign('par_wd[gp*PKEEP_W +: PKEEP_W]', 'rs_entry[gp*PLANE_W +: PKEEP_W]'));
}

export function loadModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule('nibble_load', 'LOAD unit: 2-D strided DMA from DRAM into INP, WGT or PARAM.', f.c);
  ports(m, f);
  const head = f.isa.entryView('LOAD', d.IX.value);
  const fields = f.isa.layouts.get('LOAD')!.fields.map((x) => x.name);
  head.unpack(m, 'lq_head', 'lh', [...fields, 'idx']);
  // every load-unit opcode but NOP is a LOAD: a new one is a compile error here (docs/extending.md)
  const loadOps = { LOAD: 'lh_is_load' } as const satisfies Record<MnemonicOn<'load'>, string>;
  m.wire(loadOps.LOAD, 1, { value: `${head.slice('lq_head', 'opcode')} == ${lit(d.OPC_W, f.isa.opcodeOf('LOAD'))}` });
  m.assign('ld_start', `running && lq_ne && !ld_busy && ${tokensReady(f, 'load', head, 'lq_head')}`);
  m.wire('ld_start_load', 1, { value: 'ld_start && lh_is_load' });
  m.wire('ld_start_nop', 1, { value: 'ld_start && !lh_is_load' });
  requestSide(m, f);
  responseSide(m, f);
  m.section('retire');
  m.wire('ld_ret', 1, { value: 'ld_start_nop || rs_all_done' });
  traceEvents(m, 'ld', { headIdx: 'lh_idx', ret: 'ld_ret', retIdx: 'ld_start_nop ? lh_idx : ld_idx' });
  m.reg('ld_push_r', 1, { doc: 'push_next of the LOAD in flight' });
  tokenEvents(
    m,
    f,
    'load',
    'ld_start',
    head,
    'lq_head',
    'ld_ret',
    () => `(ld_start_nop ? ${head.slice('lq_head', 'push_next')} : ld_push_r)`,
  );
  m.clocked(`
    if (ld_start_load) begin
      ld_busy <= 1'b1; ld_buf <= lh_buf; ld_rep <= lh_replicate; ld_idx <= lh_idx; ld_push_r <= ${head.slice('lq_head', 'push_next')};
      rs_slot <= 0; rs_x <= lh_x_count; rs_y <= lh_y_count; rs_ptr <= lh_sram_addr;
    end
    if (ld_start_load || ld_busy) begin
      rq_addr <= rq_fire ? rq_addr_c + rq_stride_c : rq_addr_c;
      rq_left <= rq_fire ? rq_left_c - 1'b1 : rq_left_c;
      rq_stride <= rq_stride_c;
      rq_x <= rq_x_c;
    end
    if (ld_busy && rd_resp_valid) begin
      rs_slot <= rs_last_slot ? 0 : rs_slot + 1'b1;
      if (rs_last_slot) begin
        rs_ptr <= rs_ptr + 1'b1;
        if (rs_x == 1) begin rs_x <= rq_x; rs_y <= rs_y - 1'b1; end
        else rs_x <= rs_x - 1'b1;
      end
    end
    if (rs_all_done) ld_busy <= 1'b0;
  `);
  return m;
}
