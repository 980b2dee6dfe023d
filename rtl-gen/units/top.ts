/**
 * nibble_top, the core (docs/rtl.md, "Top-level interface"): fetch, the three
 * queues, the token counters, LOAD, compute, STORE, the scratchpads and the
 * performance counters, wired by name.
 */
import { UNITS } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';
import { INSN_GNT_DOC } from './fetch.js';
import { PERF_COUNTERS } from './perf.js';
import { dramReadPorts, dramWritePorts, tracePorts } from './ports.js';
import { queueParams } from './queue.js';
import { QUEUE_PREFIX, UNIT_PREFIX } from './tokens.js';

/** The core's ports, in order (the harness, the FPGA wrapper and bus shells connect to these). */
function corePorts(m: VerilogModule, f: CoreFacts): void {
  const { d } = f;
  m.input('clk');
  m.input('rst');
  m.input('start', 1, { doc: 'pulse for one cycle after reset; cycle 0 is the next cycle' });
  m.output('done');
  m.output('err');
  m.output('acc_ovf', 1, {
    doc: 'sticky: an accumulator overflowed (the simulator and reference refuse such a program)',
  });
  m.portGroup('instruction port: word insn_addr appears on insn_data the cycle after insn_rd');
  m.output('insn_rd');
  m.output('insn_addr', d.IX);
  m.input('insn_data', d.INSN_W);
  if (f.opts.insnHandshake) m.input('insn_gnt', 1, { doc: INSN_GNT_DOC });
  m.portGroup('DRAM read channel (LOAD): request = entries of entry_bytes from addr; response = beats');
  dramReadPorts(m, f);
  m.portGroup('DRAM write channel (STORE): one beat per cycle, byte strobes, response after the last beat');
  dramWritePorts(m, f);
  m.portGroup('trace: dispatch / start / retire events with instruction indices');
  m.output('tr_disp');
  m.output('tr_disp_idx', d.IX);
  for (const ev of ['start', 'ret'] as const) for (const u of UNITS) tracePorts(m, f, UNIT_PREFIX[u], [ev]);
  m.portGroup('performance counters');
  for (const c of PERF_COUNTERS) m.output(`perf_${c}`, d.PC);
  m.output('perf_macs', d.MACW);
}

export interface CoreUnits {
  fetch: VerilogModule;
  queue: VerilogModule;
  tokens: VerilogModule;
  scratchpads: VerilogModule;
  load: VerilogModule;
  compute: VerilogModule;
  store: VerilogModule;
  perf: VerilogModule;
}

export function topModule(f: CoreFacts, u: CoreUnits): VerilogModule {
  const { d } = f;
  const m = new VerilogModule('nibble_top', 'nibble accelerator core (docs/architecture.md, docs/rtl.md)', f.c);
  corePorts(m, f);
  m.comment('queues: entries carry the whole word; each unit decodes only its own fields');
  for (const unit of UNITS) {
    const q = QUEUE_PREFIX[unit];
    m.wire(`${q}_head`, d.QW);
    m.wire(`${q}_ne`);
    m.wire(`${q}_full`);
  }
  m.wire('all_idle', 1, { doc: 'queues empty and every unit idle' });
  m.assign(
    'all_idle',
    [...UNITS.map((x) => `!${QUEUE_PREFIX[x]}_ne`), ...UNITS.map((x) => `!${UNIT_PREFIX[x]}_busy`)].join(' && '),
  );
  m.section('fetch and dispatch');
  m.instance(u.fetch, 'u_fetch');
  for (const unit of UNITS) {
    const q = QUEUE_PREFIX[unit];
    m.instance(u.queue, `u_${q}`, {
      params: queueParams(d.QW, f.cfg.queues[unit]),
      ports: {
        clk: 'clk',
        rst: 'rst',
        push: `${q}_push`,
        din: 'f_entry',
        pop: `${UNIT_PREFIX[unit]}_start`,
        head: `${q}_head`,
        nonempty: `${q}_ne`,
        full: `${q}_full`,
      },
    });
  }
  m.section('dependency tokens');
  m.instance(u.tokens, 'u_tokens');
  m.section('units and scratchpads');
  m.instance(u.load, 'u_load');
  m.instance(u.compute, 'u_compute');
  m.instance(u.store, 'u_store');
  m.instance(u.scratchpads, 'u_spad');
  m.section('performance counters');
  m.instance(u.perf, 'u_perf');
  return m;
}
