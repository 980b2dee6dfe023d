/**
 * Public surface of the ISA: the instruction table, its encoding, assembly
 * text, the static token checker, the .nbl program file, DRAM/scratchpad
 * packing and the Program types.
 */
export {
  BUFFER_NAMES,
  DEP_FLAG_NAMES,
  HEADER_BITS,
  INSTRUCTION_BITS,
  INSTRUCTION_BYTES,
  MNEMONICS,
  OPS,
  OP_BY_OPCODE,
  UNITS,
  nextUnit,
  prevUnit,
  unitOf,
} from './table.js';
export type {
  DepFlags,
  FieldDef,
  GemmInst,
  HaltInst,
  Instruction,
  InstructionOf,
  LoadBuffer,
  LoadInst,
  Mnemonic,
  NopInst,
  OpDef,
  PoolInst,
  RequantInst,
  StoreInst,
  Unit,
} from './table.js';
export {
  checkInstruction,
  decodeInstruction,
  decodeProgramCode,
  encodeInstruction,
  encodeProgramCode,
  isaLayout,
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
export { TOKEN_CHANNELS, TOKEN_COUNTER_MAX, checkTokenBalance, tokenChannel } from './tokens.js';
export type { TokenChannel, TokenCheckOptions, TokenCheckResult } from './tokens.js';
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
export {
  packEntry,
  packParamEntry,
  packTensor,
  tensorImageBytes,
  unpackEntry,
  unpackParamEntry,
  unpackTensor,
} from './layout.js';
export type { DramSegment, LayerInfo, Program, TensorDescriptor, TensorLayout } from './program.js';
export { renderIsaMarkdown } from './isa-doc.js';
