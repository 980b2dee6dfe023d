/**
 * The scratchpads: nibble_sdp_ram (one simple dual-port block RAM) and
 * nibble_scratchpads, the five buffers of docs/architecture.md section 1 with
 * OUT built twice (docs/rtl.md, "POOL").
 */
import type { CoreFacts } from '../core-facts.js';
import { VerilogModule, type Constants } from '../emit/module.js';
import { builtReaders, geometry, READER_RAM, READS, readPort, writePort, type Buffer } from './ports.js';

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

export function scratchpadsModule(f: CoreFacts, ram: VerilogModule): VerilogModule {
  const m = new VerilogModule(
    'nibble_scratchpads',
    'The scratchpads: INP (R lane RAMs with one read address each), WGT, PARAM, ACC and OUT, simple\n' +
      'dual-port RAMs; OUT has two readers (STORE and POOL) and, with config gemmBeside, ACC two (GEMM and\n' +
      'REQUANT), so each is two RAMs written together.',
    f.c,
  );
  m.input('clk');
  const buffers = ['inp', 'wgt', 'par', 'acc', 'out'] as const;
  const readers = (b: Buffer) => builtReaders(f).filter((r) => READS[r] === b);
  for (const b of buffers) {
    const rs = readers(b);
    m.portGroup(`${b.toUpperCase()}: ${rs.length > 1 ? `readers ${rs.join(', ')}` : 'one reader'}`);
    writePort(m, f, b, 'ram');
    for (const r of rs) readPort(m, f, r, 'ram');
  }
  m.comment(
    'INP is R lane RAMs written together, each read at its own address: an array row reads its own kernel tap\n' +
      '(tap packing, docs/architecture.md 7.6)',
  );
  m.forEach('g_inp', 'gl', f.d.R, (b) =>
    b.instance(ram, 'u_inp', {
      params: { W: f.d.AB, AW: f.d.INP_AW },
      ports: {
        clk: 'clk',
        we: 'inp_we',
        wa: 'inp_wa',
        wd: 'inp_wd[gl*AB +: AB]',
        re: 'inp_re',
        ra: 'inp_ra[gl*INP_AW +: INP_AW]',
        rd: 'inp_q[gl*AB +: AB]',
      },
    }),
  );
  for (const b of buffers.filter((x) => x !== 'inp')) {
    const rs = readers(b);
    const { aw, w } = geometry(f, b);
    for (const r of rs) {
      const name = rs.length > 1 ? `u_${b}_${READER_RAM[r]}` : `u_${b}`;
      m.instance(ram, name, {
        params: { W: w, AW: aw },
        ports: { clk: 'clk', we: `${b}_we`, wa: `${b}_wa`, wd: `${b}_wd`, re: `${r}_re`, ra: `${r}_ra`, rd: `${r}_q` },
      });
    }
  }
  return m;
}
