/** nibble_queue: the instruction queue in front of each unit (docs/rtl.md, "Queues"). */
import { VerilogModule, type Constants } from '../emit/module.js';
import { Dim, bitsFor, indexBits } from '../emit/width.js';

/** The parameters of a queue `depth` entries deep. */
export function queueParams(entryWidth: Dim, depth: number): Record<string, Dim | number> {
  return { W: entryWidth, DEPTH: depth, PW: indexBits(depth), CW: Math.max(2, bitsFor(depth)) };
}

export function queueModule(c: Constants): VerilogModule {
  const m = new VerilogModule(
    'nibble_queue',
    'Instruction queue: DEPTH entries (any depth >= 1), first-word-fall-through head.',
    c,
  );
  const W = m.param('W', 8, 'entry bits');
  const DEPTH = m.param('DEPTH', 2, 'entries');
  const PW = m.param('PW', 1, 'read/write pointer bits: clog2(DEPTH), at least 1');
  const CW = m.param('CW', 2, 'fill count bits: holds 0..DEPTH, at least 2');
  m.input('clk');
  m.input('rst');
  m.input('push');
  m.input('din', W);
  m.input('pop');
  m.output('head', W);
  m.output('nonempty');
  m.output('full');
  m.regs(['rp', 'wp'], PW);
  m.reg('cnt', CW);
  m.comment(
    'one register per entry (a generate loop, not a reset for-loop: Verilator cannot unroll delayed array writes past 64)',
  );
  m.wire('qv', Dim.product(W, DEPTH));
  m.forEach('g_ent', 'k', DEPTH, (b) => {
    b.reg('e', W);
    b.clocked('if (push && wp == k) e <= din;');
    b.assign('qv[k*W +: W]', 'e');
  });
  m.comment('the head is a multiplexer over the entries (a variable part-select would synthesize to a wide shifter)');
  m.reg('head_r', W);
  m.verbatim('integer j;');
  m.comb(`
    head_r = {W{1'b0}};
    for (j = 0; j < DEPTH; j = j + 1) if (rp == j[PW-1:0]) head_r = qv[j*W +: W];
  `);
  m.assign('head', 'head_r');
  m.assign('nonempty', 'cnt != 0');
  m.assign('full', 'cnt == DEPTH[CW-1:0]');
  m.wire('rp_n', PW, { value: "(rp == DEPTH[PW-1:0] - 1'b1) ? {PW{1'b0}} : rp + 1'b1" });
  m.wire('wp_n', PW, { value: "(wp == DEPTH[PW-1:0] - 1'b1) ? {PW{1'b0}} : wp + 1'b1" });
  m.clocked(`
    if (push) wp <= wp_n;
    if (pop) rp <= rp_n;
    cnt <= cnt + {{(CW-1){1'b0}}, push} - {{(CW-1){1'b0}}, pop};
  `);
  return m;
}
