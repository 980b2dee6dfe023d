import type { DiagnosticCode } from './diagnostics.js';

/**
 * Every error a user can cause (bad file, bad config, bad field, impossible
 * program) is a NibbleError. The CLI prints `message` on one line and exits 1;
 * anything else is an internal bug (exit 2, stack trace shown).
 *
 * `where` names the place (file:line:col, layer index/name, instruction index, ...)
 * and is already part of `message`. `code` is the stable diagnostic code
 * (arch/diagnostics.ts): the one given, else the class's `defaultCode`.
 */
export class NibbleError extends Error {
  /** the code of this class's errors when a call site gives none; every subclass names its own */
  static readonly defaultCode: DiagnosticCode = 'NB-E000';
  readonly where: string | undefined;
  readonly code: DiagnosticCode;
  constructor(message: string, where?: string, code?: DiagnosticCode) {
    super(where ? `${where}: ${message}` : message);
    this.name = new.target.name;
    this.where = where;
    this.code = code ?? (new.target as typeof NibbleError).defaultCode;
  }
}

/** A model file (JSON or IntegerNet text) or network IR is malformed. */
export class ModelError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-M000';
}
/** A dataset file is malformed or missing. */
export class DatasetError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-D000';
}
/** The golden reference hit an arithmetic condition the model forbids (e.g. accumulator overflow). */
export class ArithmeticError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-A000';
}
/** An ArchConfig is invalid. */
export class ConfigError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-K000';
}
/** An instruction, assembly text or program file is malformed. */
export class IsaError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-I000';
}
/** The simulator stopped a program (deadlock, out-of-range address, overflow, budget). */
export class SimError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-S000';
}
/** The compiler cannot map a network onto the configured machine. */
export class CompileError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-C000';
}
/** Verilog generation, Verilator, Yosys or nextpnr failed, or co-simulation mismatched. */
export class RtlError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-R000';
}

export function isNibbleError(e: unknown): e is NibbleError {
  return e instanceof NibbleError;
}
