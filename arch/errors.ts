/**
 * Every error a user can cause (bad file, bad config, bad field, impossible
 * program) is a NibbleError. The CLI prints `message` on one line and exits 1;
 * anything else is an internal bug (exit 2, stack trace shown).
 *
 * `where` names the place (file:line:col, layer index/name, instruction index, ...)
 * and is already part of `message`.
 */
export class NibbleError extends Error {
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = new.target.name;
    this.where = where;
  }
}

/** A model file (JSON or IntegerNet text) or network IR is malformed. */
export class ModelError extends NibbleError {}
/** A dataset file is malformed or missing. */
export class DatasetError extends NibbleError {}
/** The golden reference hit an arithmetic condition the model forbids (e.g. accumulator overflow). */
export class ArithmeticError extends NibbleError {}
/** An ArchConfig is invalid. */
export class ConfigError extends NibbleError {}
/** An instruction, assembly text or program file is malformed. */
export class IsaError extends NibbleError {}
/** The simulator stopped a program (deadlock, out-of-range address, overflow, budget). */
export class SimError extends NibbleError {}
/** The compiler cannot map a network onto the configured machine. */
export class CompileError extends NibbleError {}
/** Verilog generation, Verilator, Yosys or nextpnr failed, or co-simulation mismatched. */
export class RtlError extends NibbleError {}

export function isNibbleError(e: unknown): e is NibbleError {
  return e instanceof NibbleError;
}
