/**
 * FPGA devices a `fits` constraint can name, with their capacities in the
 * units rtl-gen's synth() reports for that target (iCE40: SB_LUT4, SB_DFF*,
 * SB_RAM40_4K, SB_MAC16; Xilinx 7-series: LUT1-6, FD*, RAMB18/36, DSP48E1).
 * Capacities are the vendors' datasheet figures; on iCE40 a logic cell holds
 * one LUT4 and one flip-flop, so LUTs and FFs each count against the cells.
 * synth() counts RAMB18 and RAMB36 cells alike, so Xilinx block RAMs are
 * counted against the RAMB36 total (conservative).
 */
export const FPGA_TARGETS = ['ice40', 'xilinx'] as const;
export type FpgaTarget = (typeof FPGA_TARGETS)[number];

export interface FpgaDevice {
  target: FpgaTarget;
  describe: string;
  luts: number;
  ffs: number;
  brams: number;
  dsps: number;
}

export const FPGA_DEVICES: Readonly<Record<string, FpgaDevice>> = {
  'ice40-hx8k': {
    target: 'ice40',
    describe: 'Lattice iCE40 HX8K: 7,680 logic cells, 32 RAM4K',
    luts: 7680,
    ffs: 7680,
    brams: 32,
    dsps: 0,
  },
  'ice40-up5k': {
    target: 'ice40',
    describe: 'Lattice iCE40 UltraPlus 5K: 5,280 logic cells, 30 RAM4K, 8 MAC16',
    luts: 5280,
    ffs: 5280,
    brams: 30,
    dsps: 8,
  },
  xc7a35t: {
    target: 'xilinx',
    describe: 'Xilinx Artix-7 35T: 20,800 LUTs, 41,600 FFs, 50 RAMB36, 90 DSP48E1',
    luts: 20800,
    ffs: 41600,
    brams: 50,
    dsps: 90,
  },
  xc7a100t: {
    target: 'xilinx',
    describe: 'Xilinx Artix-7 100T: 63,400 LUTs, 126,800 FFs, 135 RAMB36, 240 DSP48E1',
    luts: 63400,
    ffs: 126800,
    brams: 135,
    dsps: 240,
  },
};
