/** nibble_perf, the performance counters (docs/rtl.md, top-level interface). */
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule } from '../emit/module.js';

export const PERF_COUNTERS = ['cycles', 'busy_load', 'busy_compute', 'busy_store', 'array_active'] as const;

export function perfModule(f: CoreFacts): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_perf',
    'Performance counters: cycles from 0 until done, unit busy cycles, array-active cycles, MACs.',
    f.c,
  );
  m.input('clk');
  m.input('rst');
  m.input('running');
  m.input('done');
  for (const u of ['ld', 'cp', 'st']) {
    m.input(`${u}_busy`);
    m.input(`${u}_start`);
  }
  m.input('array_active');
  for (const c of PERF_COUNTERS) m.output(`perf_${c}`, d.PC, { reg: true });
  m.output('perf_macs', d.MACW);
  m.clocked(`
    if (running && !done) begin
      perf_cycles <= perf_cycles + 1'b1;
      if (ld_busy || ld_start) perf_busy_load <= perf_busy_load + 1'b1;
      if (cp_busy || cp_start) perf_busy_compute <= perf_busy_compute + 1'b1;
      if (st_busy || st_start) perf_busy_store <= perf_busy_store + 1'b1;
      if (array_active) perf_array_active <= perf_array_active + 1'b1;
    end
  `);
  m.comment(
    'every issued pixel is R x C MACs: the MAC count is the array-active count times R C (no adder of its own)',
  );
  m.assign('perf_macs', "{perf_array_active, {(LR+LC){1'b0}}}");
  return m;
}
