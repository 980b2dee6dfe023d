/**
 * Public surface of io/: reading the files a user names (regular files only,
 * capped sizes, text vs binary) and writing outputs safely (all or none, temp
 * and rename, no silent mkdir). The JSON reader they pair with is
 * arch/json.ts (configs are parsed in arch/, below this package).
 */
export { errnoCode, errnoDiagnostic, errnoReason, FileError } from './errors.js';
export { processAlive } from './process-alive.js';
export {
  checkInputFile,
  describeBinary,
  MAX_BINARY_BYTES,
  MAX_TEXT_BYTES,
  openInputFile,
  readInputBytes,
  readInputText,
  type ReadInputOptions,
} from './input.js';
export {
  checkOutputTarget,
  ensureOutputDirectory,
  NODE_OUTPUT_FS,
  writeOutputFile,
  writeOutputs,
  type OutputChunks,
  type OutputData,
  type OutputDirectory,
  type OutputFile,
  type OutputFs,
  type OutputKind,
  type WrittenOutputs,
} from './output.js';
