/** Trace writers: a layer track and layer names in Chrome traces, buffer names, a dated and documented VCD. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../arch/index.js';
import { compileNetwork } from '../../compiler/index.js';
import { zooNetwork } from '../../models/index.js';
import { simulate, writeChromeTrace, writeVcd } from '../../sim/index.js';

interface TraceEvent {
  ph: string;
  name: string;
  tid: number;
  cat?: string;
  args?: Record<string, unknown>;
}

const program = compileNetwork(zooNetwork('mnist', { seed: 1, inputSize: 8 }), resolveConfig({}), { batch: 1 });

describe('Chrome trace of a compiled network', () => {
  const doc = JSON.parse(writeChromeTrace(simulate(program, { engine: 'timing' }))) as { traceEvents: TraceEvent[] };
  const events = doc.traceEvents;

  it('has a layer track with one event per layer, in order', () => {
    const track = events.find((e) => e.name === 'thread_name' && e.args?.['name'] === 'layers');
    expect(track).toBeDefined();
    const layers = events.filter((e) => e.cat === 'layer');
    expect(layers.map((e) => e.name)).toEqual(program.layers.map((l) => l.name));
    expect(layers.every((e) => e.tid === track!.tid)).toBe(true);
  });

  it("names each instruction's layer and the LOAD buffer", () => {
    const insts = events.filter((e) => e.ph === 'X' && e.cat !== 'layer');
    const first = program.layers[0]!;
    const inFirst = insts.find((e) => e.args!['instruction'] === first.firstInstruction)!;
    expect(inFirst.args!['layer']).toBe(first.name);
    const loads = insts.filter((e) => e.name === 'LOAD');
    expect(new Set(loads.map((e) => e.args!['buf']))).toEqual(new Set(['inp', 'wgt', 'param']));
  });
});

describe('VCD', () => {
  it('carries a real date and says what the state codes mean', () => {
    const vcd = writeVcd(simulate(program, { engine: 'cycle', collect: { trace: true } }));
    const date = /^\$date (.+) \$end$/m.exec(vcd)![1]!;
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(600_000);
    expect(vcd).toMatch(
      /\$comment fetch_state: 0 = idle, 1 = dispatch, 2 = stall; load_state, compute_state, store_state: 0 = idle, 1 = busy, 2 = token, 3 = dram/,
    );
  });
});
