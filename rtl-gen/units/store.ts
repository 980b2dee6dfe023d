/**
 * nibble_store, the STORE unit (docs/architecture.md section 6): a 2-D strided
 * DMA from OUT to DRAM, one beat per cycle with byte strobes, retiring on the
 * write response of its last beat.
 */
import type { MnemonicOn } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { Dim, bitsFor, lit, zext } from '../emit/width.js';
import { dramWritePorts, readPort, traceEvents, tracePorts, unitPorts } from './ports.js';
import { tokenEvents, tokensReady } from './tokens.js';

function ports(m: VerilogModule, f: CoreFacts): void {
  unitPorts(m, f, 'store', { decodesPart: true, busyReg: true });
  m.portGroup('OUT read (STORE port)');
  readPort(m, f, 'outs');
  m.portGroup('DRAM write channel');
  dramWritePorts(m, f);
  m.portGroup('trace');
  tracePorts(m, f, 'st', ['start', 'ret']);
}

/** Byte strobes of each beat of an OUT entry (a short last beat writes only the entry's bytes). */
function strobes(m: VerilogModule, f: CoreFacts, beatW: number): void {
  const bus = f.cfg.dram.busBytes;
  const bytes = f.arch.outEntryBytes;
  const cases = Array.from({ length: f.d.BPE_OUT.value }, (_, b) => {
    const nb = Math.min(bus, bytes - b * bus);
    return `${lit(beatW, b)}: st_strb_c = ${bus}'h${((1n << BigInt(nb)) - 1n).toString(16)};`;
  });
  m.reg('st_strb_c', f.d.BUSB);
  m.comb(`
    case (st_b)
${cases.map((c) => `      ${c}`).join('\n')}
      default: st_strb_c = 0;  // st_b never passes BPE_OUT-1
    endcase
  `);
}

export function storeModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule('nibble_store', 'STORE unit: 2-D strided DMA from OUT to DRAM.', f.c);
  ports(m, f);
  const head = f.isa.entryView('STORE', d.IX.value);
  head.unpack(m, 'sq_head', 'sh', [...f.isa.layouts.get('STORE')!.fields.map((x) => x.name), 'idx']);
  // every store-unit opcode but NOP is a STORE: a new one is a compile error here (docs/extending.md)
  const storeOps = { STORE: 'sh_is_store' } as const satisfies Record<MnemonicOn<'store'>, string>;
  m.wire(storeOps.STORE, 1, {
    value: `${head.slice('sq_head', 'opcode')} == ${lit(d.OPC_W, f.isa.opcodeOf('STORE'))}`,
  });
  m.regs(['st_send', 'st_wait']);
  m.assign('st_start', `running && sq_ne && !st_busy && ${tokensReady(f, 'store', head, 'sq_head')}`);
  m.wire('st_start_store', 1, { value: 'st_start && sh_is_store' });
  m.wire('st_start_nop', 1, { value: 'st_start && !sh_is_store' });
  m.reg('st_idx', d.IX);
  m.reg('st_push_r', 1, { doc: 'push_prev of the STORE in flight' });
  const beatW = bitsFor(d.BPE_OUT.value);
  m.reg('st_b', beatW);
  m.regs(['st_x', 'st_y', 'st_xn'], d.DIMB);
  m.reg('st_ra', d.OUT_AW);
  m.regs(['st_row', 'st_ent', 'st_stride'], d.DAW);
  m.wire('st_fire', 1, { value: 'st_send && wr_ready' });
  m.wire('st_last_b', 1, { value: 'st_b == BPE_OUT - 1' });
  m.wire('st_last_all', 1, { value: 'st_last_b && st_x == 1 && st_y == 1' });
  m.assign('outs_re', 'st_start_store || (st_fire && st_last_b && !st_last_all)');
  m.assign('outs_ra', 'st_start_store ? sh_sram_addr : st_ra');
  const padded = Dim.product(d.BPE_OUT, d.BUSW);
  m.wire('st_q_pad', padded, { value: zext('outs_q', d.OUT_W.value, padded.value) });
  strobes(m, f, beatW);
  m.assign('wr_valid', '!rst && st_send');
  m.assign('wr_addr', `st_ent + (${zext('st_b', beatW, d.DAW)} << ${Math.log2(f.cfg.dram.busBytes)})`);
  m.assign('wr_data', 'st_q_pad[st_b*BUSW +: BUSW]');
  m.assign('wr_strb', 'st_strb_c');
  m.assign('wr_last', 'st_last_all');
  m.section('retire');
  m.wire('st_done', 1, { value: 'st_wait && wr_resp_valid' });
  m.wire('st_ret', 1, { value: 'st_start_nop || st_done' });
  traceEvents(m, 'st', { headIdx: 'sh_idx', ret: 'st_ret', retIdx: 'st_start_nop ? sh_idx : st_idx' });
  tokenEvents(
    m,
    f,
    'store',
    'st_start',
    head,
    'sq_head',
    'st_ret',
    () => `(st_start_nop ? ${head.slice('sq_head', 'push_prev')} : st_push_r)`,
  );
  m.clocked(`
    if (st_start_store) begin
      st_busy <= 1'b1; st_send <= 1'b1; st_idx <= sh_idx; st_push_r <= ${head.slice('sq_head', 'push_prev')};
      st_b <= 0; st_x <= sh_x_count; st_xn <= sh_x_count; st_y <= sh_y_count;
      st_ra <= sh_sram_addr + 1'b1;
      st_row <= sh_dram_addr;
      st_ent <= sh_dram_addr;
      st_stride <= sh_dram_stride;
    end
    if (st_fire) begin
      if (!st_last_b) st_b <= st_b + 1'b1;
      else begin
        st_b <= 0;
        st_ra <= st_ra + 1'b1;
        if (st_last_all) begin st_send <= 1'b0; st_wait <= 1'b1; end
        else if (st_x == 1) begin
          st_x <= st_xn; st_y <= st_y - 1'b1;
          st_row <= st_row + st_stride; st_ent <= st_row + st_stride;
        end else begin
          st_x <= st_x - 1'b1; st_ent <= st_ent + ${lit(d.DAW, f.arch.outEntryBytes)};
        end
      end
    end
    if (st_done) begin st_wait <= 1'b0; st_busy <= 1'b0; end
  `);
  return m;
}
