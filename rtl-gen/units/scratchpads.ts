/**
 * The scratchpads: nibble_sdp_ram (one simple dual-port block RAM) and
 * nibble_scratchpads, the five buffers of docs/architecture.md section 1 with
 * OUT built twice (docs/rtl.md, "POOL").
 */
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule, type Constants } from '../emit/module.js';
import type { Dim } from '../emit/width.js';

export function sdpRamModule(c: Constants): VerilogModule {
  const m = new VerilogModule(
    'nibble_sdp_ram',
    'Simple dual-port RAM, synchronous read (1 cycle), read-enable holds the output.',
    c,
  );
  const W = m.param('W', 8, 'entry bits');
  const AW = m.param('AW', 4, 'address bits: 2^AW entries');
  m.input('clk');
  m.input('we');
  m.input('wa', AW);
  m.input('wd', W);
  m.input('re');
  m.input('ra', AW);
  m.output('rd', W, { reg: true });
  m.comment(
    'block RAM even when small: flip-flop memories (and their read multiplexers) cost an iCE40 hundreds of logic cells',
  );
  m.verbatim('(* ram_style = "block" *) reg [W-1:0] mem [0:(1<<AW)-1];');
  m.clocked(
    `
    if (we) mem[wa] <= wd;
    if (re) rd <= mem[ra];
  `,
    { reset: false },
  );
  m.verbatim(`
    \`ifndef SYNTHESIS
      integer i;
      initial begin
        for (i = 0; i < (1 << AW); i = i + 1) mem[i] = {W{1'b0}};
        rd = {W{1'b0}};
      end
    \`endif
  `);
  return m;
}

/** A buffer's RAM ports: `<p>_we/_wa/_wd` written, `<r>_re/_ra/_q` read, for each reader prefix r. */
function bufferPorts(m: VerilogModule, p: string, aw: Dim, w: Dim, readers: readonly string[]): void {
  m.input(`${p}_we`);
  m.input(`${p}_wa`, aw);
  m.input(`${p}_wd`, w);
  for (const r of readers) {
    m.input(`${r}_re`);
    m.input(`${r}_ra`, aw);
    m.output(`${r}_q`, w);
  }
}

export function scratchpadsModule(f: CoreFacts, ram: VerilogModule): VerilogModule {
  const { d } = f;
  const m = new VerilogModule(
    'nibble_scratchpads',
    'The scratchpads: INP, WGT, PARAM, ACC and OUT, one simple dual-port RAM each; OUT has two\n' +
      'readers (STORE and POOL), so it is two RAMs written together.',
    f.c,
  );
  m.input('clk');
  const buffers = [
    { p: 'inp', aw: d.INP_AW, w: d.INP_W, readers: ['inp'] },
    { p: 'wgt', aw: d.WGT_AW, w: d.WGT_W, readers: ['wgt'] },
    { p: 'par', aw: d.PAR_AW, w: d.PAR_W, readers: ['par'] },
    { p: 'acc', aw: d.ACC_AW, w: d.ACC_W, readers: ['acc'] },
    { p: 'out', aw: d.OUT_AW, w: d.OUT_W, readers: ['outs', 'outp'] },
  ] as const;
  for (const b of buffers) {
    m.portGroup(`${b.p.toUpperCase()}: ${b.readers.length > 1 ? `readers ${b.readers.join(', ')}` : 'one reader'}`);
    bufferPorts(m, b.p, b.aw, b.w, b.readers);
  }
  for (const b of buffers) {
    for (const r of b.readers) {
      const name = b.readers.length > 1 ? `u_${b.p}_${r === 'outs' ? 'st' : 'pl'}` : `u_${b.p}`;
      m.instance(ram, name, {
        params: { W: b.w, AW: b.aw },
        ports: {
          clk: 'clk',
          we: `${b.p}_we`,
          wa: `${b.p}_wa`,
          wd: `${b.p}_wd`,
          re: `${r}_re`,
          ra: `${r}_ra`,
          rd: `${r}_q`,
        },
      });
    }
  }
  return m;
}
