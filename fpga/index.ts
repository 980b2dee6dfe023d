/**
 * Board flows (docs/board.md): boards and their pins, the board design around
 * the AXI shell, and the open-tool build (Yosys, nextpnr-ice40, icepack).
 */
export { BOARDS, BOARD_MAP, boardByName, pcf, FpgaError } from './boards.js';
export type { Board } from './boards.js';
export { boardTopModule } from './board-top.js';
export { buildBoard, clockWarnings, DEVICE_CAPACITY } from './build.js';
export type { FpgaBuildOptions, FpgaBuildResult } from './build.js';
export { locateTool, requireTool, relevantLines, runLogged } from './tools.js';
export type { Tool, ToolName } from './tools.js';
export {
  boardProgram,
  boardTimingMismatch,
  buildBoardSim,
  runBoardSim,
  runBoardModel,
  simulateOnBoard,
  SIM_CLOCKS_PER_BIT,
} from './board-sim.js';
export type { BoardSimBuild, BoardSimResult, BoardModelRun, BoardTrace } from './board-sim.js';
export { synthXilinx, xilinxPart, XILINX_PARTS } from './xilinx.js';
export type { XilinxPart, XilinxResult } from './xilinx.js';
export { boardModelImage, boardImages } from './flash-image.js';
export type { BoardModelImage, BoardModelLayout } from './flash-image.js';
