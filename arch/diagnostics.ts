/**
 * Every diagnostic nibble can print, by stable code: its severity, a one-line
 * summary and an explanation (`nibble explain CODE`, docs/diagnostics.md,
 * generated from this table and drift-tested). Codes never change meaning and
 * are never reused; tests assert them, so a message may be reworded freely.
 *
 * A code is `NB-` + an area letter + three digits: 0xx errors, 1xx warnings,
 * 2xx notes (something the user may not expect, but nothing wrong). Every
 * error class has its area's `x000` code (arch/errors.ts and the classes above
 * arch/); errors worth telling apart carry their own. Only warnings and notes
 * can be suppressed (`--suppress CODE`, NIBBLE_SUPPRESS): an error always stops.
 */

export type Severity = 'error' | 'warning' | 'note';

export interface DiagnosticInfo {
  readonly severity: Severity;
  /** one line, lower case, no full stop */
  readonly summary: string;
  /** what causes it and what to do, for `nibble explain` */
  readonly explanation: string;
}

/** The areas, by code letter (the table's order in docs/diagnostics.md). */
export const DIAGNOSTIC_AREAS = {
  E: 'any part (unclassified user error)',
  A: 'reference executor arithmetic',
  B: 'benchmark command line',
  C: 'compiler',
  D: 'datasets',
  F: 'files and streams',
  I: 'instructions, assembly and program files',
  K: 'machine configuration',
  M: 'models and importers',
  N: 'parts missing from this build',
  P: 'FPGA flows',
  R: 'Verilog generation and RTL tools',
  S: 'simulator',
  T: 'external tools',
  U: 'command-line usage',
  V: 'verification and checks',
  W: 'design-space sweeps',
} as const;

const e = (summary: string, explanation: string) => ({ severity: 'error' as const, summary, explanation });
const w = (summary: string, explanation: string) => ({ severity: 'warning' as const, summary, explanation });
const n = (summary: string, explanation: string) => ({ severity: 'note' as const, summary, explanation });

export const DIAGNOSTICS = {
  'NB-E000': e(
    'user error',
    'Bad input that no more specific code describes. The message names the place and the reason; fix the input it names.',
  ),
  'NB-A000': e(
    'arithmetic outside the model',
    'The reference executor hit a condition the integer model forbids, such as an accumulator that overflows its configured width. Widen bits.accumulator, or reduce the layer fan-in or the weights.',
  ),
  'NB-B000': e('bad benchmark command line', 'Run `npm run bench -- --help` for the sections and options.'),
  'NB-C000': e(
    'the network cannot be mapped onto the machine',
    'The compiler refused the network for this config. The message names the layer and the limit; change the layer or the config (array size, scratchpad entries, field widths).',
  ),
  'NB-C001': e(
    'layer kind has no lowering',
    'The network holds a layer kind that the compiler cannot lower. Every kind registered in models/layers needs a module in compiler/layers (docs/extending.md).',
  ),
  'NB-C002': e(
    'a layer does not fit the scratchpads',
    'Even the smallest tile of the layer needs more scratchpad entries than the config has. Raise the scratchpad entries named in the message, or make the layer smaller.',
  ),
  'NB-C003': e(
    'a value exceeds an instruction field',
    'A count or address that a layer needs is wider than its instruction field (the field widths derive from the config, docs/isa.md). Raise the config entry that sizes the field, or split the layer.',
  ),
  'NB-C004': e(
    'the network needs wider numbers than the machine has',
    'A layer needs activations or accumulators wider than bits.activation or bits.accumulator. Raise the config width the message names.',
  ),
  'NB-D000': e(
    'malformed or missing dataset',
    'A dataset file could not be read or does not match the model input. The message names the file and the record.',
  ),
  'NB-D201': n(
    'the model and the dataset have different class counts',
    'The model has more or fewer outputs than the dataset has classes, so some images always count as wrong or some outputs never match a label. The accuracy is still measured; use a model made for the dataset to compare it with published figures.',
  ),
  'NB-F000': e(
    'file or stream error',
    'A file, directory or stream the command names could not be read or written. The message names the path and the reason.',
  ),
  'NB-F001': e(
    'file does not exist',
    'The path, or a directory on it, does not exist. Check the spelling and the working directory.',
  ),
  'NB-F002': e(
    'not a regular file',
    'A directory, device or FIFO was named where a file is read or written. Name a regular file.',
  ),
  'NB-F003': e(
    'file too large',
    'nibble caps the size of every file it reads, so a wrong path (a disk image, /dev/zero) cannot exhaust memory. The message gives the limit.',
  ),
  'NB-F004': e(
    'binary data where text was expected',
    'A text format (assembly, IntegerNet text, JSON, YAML) was given a binary file; nothing of it is echoed. Check the file and the --format option.',
  ),
  'NB-F005': e(
    'no space left',
    'The device or quota is full. nibble writes through a temporary file and renames it, so no half-written output is left behind: free space and run again.',
  ),
  'NB-F006': e(
    'permission denied',
    'The file system refused the access (permissions, a read-only mount). Choose another path or fix the permissions.',
  ),
  'NB-I000': e(
    'malformed instruction, assembly or program file',
    'An instruction field is out of range, an assembly line does not parse, or a program file is truncated, corrupt or of another version. The message names the line, instruction or byte offset.',
  ),
  'NB-I001': e(
    'the dependency tokens can deadlock',
    'The static token checker found instructions that wait for a token that is never pushed, or for a queue slot that never frees. The message names each stuck instruction, its unit and the channel it waits on (docs/isa.md, dependency tokens).',
  ),
  'NB-I002': e(
    'a token counter can overflow',
    'A producer can run so far ahead of its consumer that a 16-bit token counter would overflow. Add pops (or a barrier) between the pushes.',
  ),
  'NB-I003': e(
    'token warning refused in strict mode',
    'With strict checking, the token warnings (NB-I101, NB-I102, NB-I103) are errors.',
  ),
  'NB-I004': e(
    'a scratchpad race between units',
    'Two instructions on different units touch the same scratchpad range (read-after-write, write-after-read or write-after-write) and no dependency token orders them, so the result would depend on timing. The message names both instructions (with file:line for assembly) and the range. Add a push/pop pair between them.',
  ),
  'NB-I010': e(
    'not a nibble program file',
    'The file does not start with the program-file magic "NBL1". Give sim, disasm, verify or report a .nbl file written by nibble compile or nibble asm (docs/program-file.md).',
  ),
  'NB-I011': e(
    'program file of another format version',
    'The program file was written by a nibble with another format version. Compile or assemble it again with this nibble.',
  ),
  'NB-I012': e(
    'truncated or corrupted program file',
    'The program file is shorter or longer than its header says, or its CRC-32 does not match: it was cut off or altered in transit. Write it again.',
  ),
  'NB-I013': e(
    'program compiled for a different machine',
    "The program's config differs from the one the command expects (--config). The message lists the fields that differ; compile for that config, or drop --config.",
  ),
  'NB-I101': w(
    'the program has no HALT',
    'Fetch runs to the end of the code. The simulator refuses such a program (NB-S007); end the program with HALT.',
  ),
  'NB-I102': w(
    'instructions after the HALT',
    'Instructions after the first HALT are never fetched. Remove them, or move the HALT.',
  ),
  'NB-I103': w(
    'tokens pushed but never popped',
    'Some dependency tokens are left in their counters when the program ends. Harmless for this run, but a program that loops or is concatenated with another will see them; balance pushes and pops.',
  ),
  'NB-K000': e(
    'invalid machine configuration',
    'A config field is out of range, inconsistent with another, or makes an instruction field too wide for the 128-bit word. The message names config.FIELD; docs/config.md lists every field and its range.',
  ),
  'NB-M000': e(
    'malformed model or network',
    'A model file (JSON, IntegerNet text, .nbm, ONNX) or network is malformed or inconsistent. The message names the file, layer or node and the reason.',
  ),
  'NB-M001': e(
    'ONNX operator not supported',
    'The importer has no conversion for an operator of the model. The message names the node and suggests what to export instead (docs/import.md lists the supported operators).',
  ),
  'NB-M002': e(
    'inexact step refused (--exact)',
    'With --exact the importer refuses any step it can only approximate by shift-based integer arithmetic. The message names the node and the ratio; drop --exact to accept it (NB-M101 then reports it).',
  ),
  'NB-M101': w(
    'model imported with inexact steps',
    'The ONNX importer replaced some float steps by their nearest shift-based integer form, so results can differ slightly from the model. `nibble import FILE --report --check` lists each step and measures the effect; `--exact` refuses such models.',
  ),
  'NB-M102': w(
    'host stages not exported',
    "The model's host input or output stages (input tables, summed output slices) have no QONNX form, so the exported graph is the integer network only. Apply those stages on the host.",
  ),
  'NB-M201': n(
    'the importer took a step worth knowing',
    'An import note says how a node was carried over when that is not obvious from the report: a raw 8-bit input without a quantizer, offset codes corrected at a later convolution, a LogSoftmax kept as a softmax head, an exact fix of a step. Nothing is lost; the line names the node.',
  ),
  'NB-N000': e(
    'a part of nibble is missing from this build',
    'The command needs a package of nibble that this installation does not include. Reinstall nibble, or use a command that does not need it.',
  ),
  'NB-P000': e(
    'FPGA flow failed',
    'The board flow could not start or stopped: an unknown board, a design that does not fit the device, or a tool that failed. The message names the tool and its log.',
  ),
  'NB-P101': w(
    "config clock above the placed design's Fmax",
    "config.clockMHz is higher than nextpnr's Fmax, so the simulator's latencies assume a clock the board cannot run. Use --clock-from-pnr or lower clockMHz.",
  ),
  'NB-P102': w(
    "board clock above the placed design's Fmax",
    "The board's oscillator is faster than the placed design's Fmax: the bitstream will not run reliably. Use a smaller machine or a slower clock.",
  ),
  'NB-P103': w(
    'config clock above the FPGA estimate',
    "config.clockMHz is above the clock estimated from the synthesized logic depth for the part. The vendor's timing report decides; lower clockMHz if it fails.",
  ),
  'NB-R000': e(
    'Verilog generation or an RTL tool failed',
    'Generating Verilog, or running Verilator, Yosys or nextpnr on it, failed, or a co-simulation mismatched. The message names the tool and the first relevant log lines.',
  ),
  'NB-R201': n(
    '--pnr without --config uses the iCE40-sized config',
    'The default machine does not fit the iCE40 parts nextpnr-ice40 places, so `nibble rtl --pnr` without --config places a smaller one (the line gives its array size and config hash). Pass --config to place your own machine.',
  ),
  'NB-S000': e(
    'the simulator stopped the program',
    'The program cannot run on this machine. The message names the instruction and the reason.',
  ),
  'NB-S001': e(
    'token deadlock at run time',
    'No unit can progress: each waits for a token or a queue slot. The message lists every unit, the instruction at its head and what it waits for, and the token counters.',
  ),
  'NB-S002': e(
    'token counter overflow',
    'A 16-bit token counter would exceed its maximum: too many pushes before their pops.',
  ),
  'NB-S003': e(
    'cycle budget exceeded',
    'The program did not finish within the cycle budget. Raise the budget (maxCycles, --max-cycles) if the program is meant to run that long.',
  ),
  'NB-S004': e(
    'accumulator overflow',
    'A GEMM would push an accumulator outside its configured range (bits.accumulator). The simulator refuses rather than wrapping silently, as the RTL would; widen the accumulator or reduce the fan-in.',
  ),
  'NB-S005': e(
    'program config does not match its hash',
    'The config stored in the program is not the one its configHash names: the file was edited or corrupted. Compile or assemble it again.',
  ),
  'NB-S006': e(
    'illegal instruction',
    'An instruction is illegal on this machine: a field, flag combination or scratchpad/DRAM range it touches is out of bounds. The message names the instruction and the field.',
  ),
  'NB-S007': e('the program has no HALT', 'Fetch would run past the end of the code. End the program with HALT.'),
  'NB-S008': e(
    'a scratchpad race between units',
    'Every engine refuses a program whose result would depend on timing: two instructions on different units touch the same scratchpad range and no dependency token orders them. The message names both instructions and the range (the same check as NB-I004, made when the program is loaded).',
  ),
  'NB-S101': w(
    'option implies the cycle engine',
    'An option that needs per-cycle state (--vcd) switched the run to the cycle engine. Pass --engine cycle to say so and silence this.',
  ),
  'NB-T000': e(
    'a required tool is not installed',
    'The command runs an external tool (verilator, yosys, nextpnr-ice40, icepack, gcc, chromium) that is not on PATH. The message names the install command.',
  ),
  'NB-U000': e(
    'bad command line',
    'An unknown command or option, a missing or bad value. The message suggests the nearest spelling; `nibble COMMAND --help` lists the options.',
  ),
  'NB-U001': e(
    'unknown diagnostic code',
    "A code given to `nibble explain` or `--suppress` is not one of nibble's. `nibble explain --list` lists them all (docs/diagnostics.md).",
  ),
  'NB-U002': e(
    'an error cannot be suppressed',
    'Only warnings and notes can be suppressed with --suppress or NIBBLE_SUPPRESS; an error always stops the command.',
  ),
  'NB-V000': e(
    'a check failed',
    'A verification the command ran (verify, run --check, import --check, rtl lint) found a mismatch or a failure; the lines above it say where. Exit code 1.',
  ),
  'NB-W000': e(
    'malformed sweep spec',
    'The sweep spec is malformed or describes an empty or impossible design space. The message names the spec field (docs/sweep.md).',
  ),
  'NB-W001': e(
    'results store error',
    'The sweep results store cannot be read, locked or appended to. The message names the file.',
  ),
  'NB-W002': e(
    'queue error',
    'Redis is unreachable or was lost, or a queue job is malformed. The message names the queue and what was done with the jobs in hand.',
  ),
  'NB-W201': n(
    'the results store dropped an incomplete last line',
    'A sweep run was killed while appending to its results store, leaving a partial last line. The store drops that line when it is opened; the other results are kept.',
  ),
} as const satisfies Record<string, DiagnosticInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;

/** The codes of one severity. */
type CodeOf<S extends Severity> = {
  [K in DiagnosticCode]: (typeof DIAGNOSTICS)[K]['severity'] extends S ? K : never;
}[DiagnosticCode];

/** The codes of warnings (suppressible). */
export type WarningCode = CodeOf<'warning'>;

/** A warning as data: its code and one line that names the place. */
export interface Warning {
  readonly code: WarningCode;
  readonly message: string;
}

/** The codes of notes (suppressible, like warnings). */
export type NoteCode = CodeOf<'note'>;

/** A note as data: its code and one line. */
export interface Note {
  readonly code: NoteCode;
  readonly message: string;
}

/** The codes `--suppress` accepts. */
export type SuppressibleCode = WarningCode | NoteCode;

export function isDiagnosticCode(s: string): s is DiagnosticCode {
  return Object.hasOwn(DIAGNOSTICS, s);
}

export function isWarningCode(s: string): s is WarningCode {
  return isDiagnosticCode(s) && DIAGNOSTICS[s].severity === 'warning';
}

/** Every code, in the order docs/diagnostics.md lists them (by area, then number). */
export function diagnosticCodes(): DiagnosticCode[] {
  return (Object.keys(DIAGNOSTICS) as DiagnosticCode[]).sort();
}

/** `code` as a user may type it: `nb-s004`, `S004` and `NB-S004` are one code. */
export function normalizeDiagnosticCode(s: string): string {
  const t = s.trim().toUpperCase();
  return /^[A-Z]\d{3}$/.test(t) ? `NB-${t}` : t;
}
