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
      'REQUANT), so each is two RAMs written together; with config fastPreload WGT is two RAMs of even and odd\n' +
      'entries (two entries a cycle).',
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
    if (b === 'wgt' && f.arch.pairPreload)
      m.output('wgt_q2', f.d.WGT_W, { doc: 'config fastPreload: the entry after wgt_q, read in the same cycle' });
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
  if (f.arch.pairPreload) pairWgt(m, f, ram);
  for (const b of buffers.filter((x) => x !== 'inp' && (x !== 'wgt' || !f.arch.pairPreload))) {
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

/**
 * Config fastPreload: WGT as two RAMs of half depth, even and odd entries, so that entries a and a + 1 are
 * read in one cycle whatever a's parity (docs/architecture.md 7.2): the same bits as one RAM, plus the
 * address increment and the swap of the two outputs by a's parity.
 */
function pairWgt(m: VerilogModule, f: CoreFacts, ram: VerilogModule): void {
  const { d } = f;
  const half = f.c.define(
    'WGT_PAW',
    Math.max(1, f.arch.wgtAddrBits - 1),
    'address bits of each of the even and odd WGT RAMs (config fastPreload)',
  );
  m.comment('WGT: even entries in u_wgt_e, odd in u_wgt_o; a read of a returns a (wgt_q) and a + 1 (wgt_q2)');
  m.comment('its low bit is the parity already known from wgt_ra');
  m.lintOff(['UNUSEDSIGNAL'], () => m.wire('wgt_ra1', d.WGT_AW, { value: "wgt_ra + 1'b1" }));
  m.wire('wgt_qe', d.WGT_W);
  m.wire('wgt_qo', d.WGT_W);
  m.reg('wgt_odd', 1, { doc: 'the entry read last is odd: the outputs swap' });
  m.clocked('if (wgt_re) wgt_odd <= wgt_ra[0];', { reset: false });
  const half0 = f.arch.wgtAddrBits === 1;
  const hi = (a: string) => (half0 ? "1'b0" : `${a}[WGT_AW-1:1]`);
  for (const [name, q, ra, par] of [
    ['u_wgt_e', 'wgt_qe', hi('wgt_ra1'), '!wgt_wa[0]'],
    ['u_wgt_o', 'wgt_qo', hi('wgt_ra'), 'wgt_wa[0]'],
  ] as const)
    m.instance(ram, name, {
      params: { W: d.WGT_W, AW: half },
      ports: { clk: 'clk', we: `wgt_we && ${par}`, wa: hi('wgt_wa'), wd: 'wgt_wd', re: 'wgt_re', ra, rd: q },
    });
  m.assign('wgt_q', 'wgt_odd ? wgt_qo : wgt_qe');
  m.assign('wgt_q2', 'wgt_odd ? wgt_qe : wgt_qo');
}
