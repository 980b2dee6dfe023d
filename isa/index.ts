/**
 * Public surface of the ISA: the word's fixed parts (isa/word.ts), the instruction table, its encoding, assembly
 * text, the static token checker, the .nbl program file, DRAM/scratchpad
 * packing and the Program types.
 */
export { MNEMONICS, OPS, OP_BY_OPCODE, opOf, stopsFetch, unitOf } from './table.js';
export { loadEntryBytes } from './ops/load.js';
export { gemmBlocks, gemmPassCount, passRowTaps, rowNibbleShift, tapLanesOf, tapsPerPass } from './ops/gemm.js';
export type {
  Access,
  AnyOp,
  FieldDef,
  FieldsOf,
  Machine,
  OpUnit,
  Reject,
  GemmInst,
  HaltInst,
  Instruction,
  InstructionOf,
  LoadInst,
  Mnemonic,
  MnemonicOn,
  NopInst,
  OpDef,
  PoolInst,
  RequantInst,
  Space,
  StoreInst,
} from './table.js';
export { accessEnd, checkAccesses } from './ops/define.js';
export {
  BUFFER_NAMES,
  BUF_INP,
  BUF_PARAM,
  BUF_WGT,
  DEP_FLAG_BIT,
  DEP_FLAG_NAMES,
  HEADER_BITS,
  INSTRUCTION_BITS,
  INSTRUCTION_BYTES,
  NO_FLAGS,
  OPCODE_BITS,
  OPCODE_MASK,
  PARAM_BIAS_BITS,
  PARAM_BIAS_BYTE,
  PARAM_LANE_BYTES,
  PARAM_LANE_USED_BITS,
  PARAM_SHIFT_BITS,
  PARAM_SHIFT_BYTE,
  TOKEN_CHANNELS,
  TOKEN_COUNTER_MAX,
  UNITS,
  UNIT_COMPUTE,
  UNIT_LOAD,
  UNIT_STORE,
  depFlagError,
  depFlagProblem,
  nextUnit,
  packEntry,
  packLanes,
  packParamEntry,
  prevUnit,
  requantClampRange,
  requantScale,
  requantScaled,
  requantValue,
  tokenChannel,
  unpackEntry,
  unpackLanes,
  unpackParamEntry,
  unpackParamLanes,
} from './word.js';
export type { DepFlagName, DepFlags, LoadBuffer, TokenChannel, Unit } from './word.js';
export {
  checkInstruction,
  decodeInstruction,
  decodeProgramCode,
  encodeInstruction,
  encodeProgramCode,
  isaLayout,
  legalityTest,
} from './encoding.js';
export type { FieldLayout, OpLayout } from './encoding.js';
export {
  assembleProgram,
  assemblySourceLines,
  closestName,
  disassembleProgram,
  formatInstruction,
} from './assembly.js';
export type { DisassembleOptions } from './assembly.js';
export { assembleProgramText, programText } from './program-text.js';
export type { AssembleTextOptions, ProgramTextOptions } from './program-text.js';
export { checkTokenBalance } from './tokens.js';
export {
  BESIDE_GUEST,
  BESIDE_HOST,
  besideRole,
  describeRace,
  findProgramRace,
  findRace,
  mayStartBeside,
} from './hazards.js';
export type { Race, TokenGraph } from './hazards.js';
export type { TokenCheckOptions, TokenCheckResult } from './tokens.js';
export {
  PROGRAM_FILE_CRC_BYTES,
  PROGRAM_FILE_MAGIC,
  PROGRAM_FILE_PREFIX_BYTES,
  PROGRAM_FILE_VERSION,
  configDifferences,
  readProgramFile,
  writeProgramFile,
} from './program-file.js';
export type { ProgramFileHeader, ReadProgramOptions, SegmentEntry } from './program-file.js';
export { packTensor, packTensorInto, tensorImageBytes, unpackTensor } from './layout.js';
export type { DramSegment, LayerInfo, Program, ProgramSource, TensorDescriptor, TensorLayout } from './program.js';
export { instructionPlace } from './program.js';
export { renderIsaMarkdown } from './isa-doc.js';
