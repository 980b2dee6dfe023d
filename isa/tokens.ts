/**
 * Static dependency-token checker: proves a program cannot deadlock before it
 * runs (docs/architecture.md sections 3 and 4).
 *
 * Abstract execution: fetch dispatches instructions in program order into
 * bounded per-unit queues (a full queue stalls all later fetch; HALT stops
 * fetch); a unit starts its queue head when every channel it pops holds a
 * token; a started instruction always completes, pushing its tokens. Each
 * channel has exactly one consumer unit and starting only ever frees queue
 * slots or adds tokens, so an enabled step stays enabled until taken: the
 * order in which the abstract machine takes steps does not change whether it
 * finishes, and neither does the real machine's timing. The check is exact.
 */
import { IsaError, type ArchConfig, type Warning } from '../arch/index.js';
import { describeRace, findProgramRace } from './hazards.js';
import { decodeTokens } from './token-use.js';
import { stopsFetch, type Instruction } from './table.js';
import { TOKEN_CHANNELS, TOKEN_COUNTER_MAX, UNITS, type TokenChannel, type Unit } from './word.js';

export interface TokenCheckOptions {
  /** queue depths (config.queues); omitted = unbounded (deadlocks caused by full queues are then not found) */
  queues?: Readonly<Record<Unit, number>>;
  /** the machine: with it, scratchpad and DRAM accesses no token orders are found too (isa/hazards.ts) */
  config?: ArchConfig;
  /** how an instruction is named in errors (default `instruction N`; assembled text: `file:line (instruction N)`) */
  place?: (i: number) => string;
  /** leftover tokens, code after HALT and a missing HALT are errors instead of warnings */
  strict?: boolean;
}

export interface TokenCheckResult {
  /** tokens still in each channel when the program ends */
  leftover: Record<TokenChannel, number>;
  /** most tokens each channel held in the abstract schedule (producers run ahead first); must fit the 16-bit counters */
  peak: Record<TokenChannel, number>;
  /** suspicious but harmless findings (errors in strict mode): NB-I101, NB-I102, NB-I103 */
  warnings: Warning[];
  /** instructions that are fetched (up to and including the first HALT) */
  fetched: number;
}

const zeroCounts = (): Record<TokenChannel, number> => ({
  'load->compute': 0,
  'compute->load': 0,
  'compute->store': 0,
  'store->compute': 0,
});

/**
 * Check that the program's dependency tokens cannot deadlock. Throws IsaError
 * naming the stuck instructions (index, unit, the channel each waits for and
 * its token count). Returns leftover counts and warnings otherwise.
 */
export function checkTokenBalance(code: readonly Instruction[], opts: TokenCheckOptions = {}): TokenCheckResult {
  const place = opts.place ?? ((i: number) => `instruction ${i}`);
  const dec = code.map((inst, i) => decodeTokens(inst, place(i)));
  const haltAt = code.findIndex(stopsFetch);
  const end = haltAt < 0 ? code.length : haltAt + 1;
  const warnings: Warning[] = [];
  if (haltAt < 0)
    warnings.push({ code: 'NB-I101', message: 'the program has no HALT: fetch runs to the end of the code' });
  else if (haltAt < code.length - 1) {
    warnings.push({
      code: 'NB-I102',
      message: `instructions ${haltAt + 1}..${code.length - 1} come after the HALT at ${haltAt} and are never fetched`,
    });
  }

  const capacity = (u: Unit) => opts.queues?.[u] ?? Infinity;
  for (const u of UNITS) {
    const q = capacity(u);
    if (!(q >= 1)) throw new IsaError(`queue depth for ${u} must be >= 1, got ${q}`, 'token checker');
  }
  const queue: Record<Unit, number[]> = { load: [], compute: [], store: [] };
  const head: Record<Unit, number> = { load: 0, compute: 0, store: 0 };
  const tokens = zeroCounts();
  const peak = zeroCounts();
  // Pushes still to come per channel (from instructions not yet started), for error messages.
  const pending = zeroCounts();
  for (let i = 0; i < end; i++) for (const ch of dec[i]!.pushes) pending[ch]++;

  let fetch = 0;
  let done = 0;
  const runnable = end - (haltAt >= 0 ? 1 : 0);
  for (;;) {
    let progress = false;
    // Fetch: in order, stalls on the first instruction whose queue is full.
    while (fetch < end) {
      const u = dec[fetch]!.unit;
      if (u === undefined) {
        fetch++; // HALT: dispatched to no queue
        continue;
      }
      if (queue[u].length - head[u] >= capacity(u)) break;
      queue[u].push(fetch++);
      progress = true;
    }
    // Each unit starts (and, abstractly, completes) its queue heads while their pops are satisfied.
    for (const u of UNITS) {
      while (head[u] < queue[u].length) {
        const i = queue[u][head[u]]!;
        const d = dec[i]!;
        if (!d.pops.every((ch) => tokens[ch] > 0)) break;
        for (const ch of d.pops) tokens[ch]--;
        for (const ch of d.pushes) {
          tokens[ch]++;
          pending[ch]--;
          if (tokens[ch] > peak[ch]) peak[ch] = tokens[ch];
        }
        head[u]++;
        done++;
        progress = true;
      }
    }
    if (!progress) break;
  }

  if (done < runnable) {
    const stuck: string[] = [];
    let first = -1;
    for (const u of UNITS) {
      if (head[u] >= queue[u].length) continue;
      const i = queue[u][head[u]]!;
      if (first < 0 || i < first) first = i;
      const waits = dec[i]!.pops.filter((ch) => tokens[ch] === 0).map(
        (ch) =>
          `a ${ch} token (0 available, ${pending[ch]} more push${pending[ch] === 1 ? '' : 'es'} in the program, none of which can happen first)`,
      );
      stuck.push(`${place(i)} (${code[i]!.op}, ${u} unit) waits for ${waits.join(' and ')}`);
    }
    if (fetch < end) {
      const u = dec[fetch]!.unit!;
      if (first < 0 || fetch < first) first = fetch;
      stuck.push(
        `fetch is stalled at ${place(fetch)} (${code[fetch]!.op}): the ${u} queue is full (depth ${capacity(u)}), so later instructions are never dispatched`,
      );
    }
    throw new IsaError(
      `token deadlock after ${done} of ${runnable} instructions: ${stuck.join('; ')}`,
      place(first),
      'NB-I001',
    );
  }

  for (const ch of TOKEN_CHANNELS) {
    if (peak[ch] > TOKEN_COUNTER_MAX) {
      throw new IsaError(
        `channel ${ch} can hold ${peak[ch]} tokens at once, more than its 16-bit counter (${TOKEN_COUNTER_MAX}): the producer can run too far ahead of its consumer`,
        'token checker',
        'NB-I002',
      );
    }
  }
  if (opts.config) {
    const race = findProgramRace(code, opts.config);
    if (race) {
      const { where, message } = describeRace(race, code, place);
      throw new IsaError(message, where, 'NB-I004');
    }
  }
  const leftover = { ...tokens };
  const left = TOKEN_CHANNELS.filter((ch) => leftover[ch] > 0);
  if (left.length) {
    warnings.push({
      code: 'NB-I103',
      message: `tokens pushed but never popped: ${left.map((ch) => `${leftover[ch]} on ${ch}`).join(', ')}`,
    });
  }
  if (opts.strict && warnings.length)
    throw new IsaError(warnings.map((w) => `${w.message} [${w.code}]`).join('; '), 'token checker (strict)', 'NB-I003');
  return { leftover, peak, warnings, fetched: end };
}
