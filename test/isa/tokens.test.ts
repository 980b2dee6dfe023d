import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../arch/config.js';
import { IsaError } from '../../arch/errors.js';
import { assembleProgram, checkTokenBalance } from '../../isa/index.js';
import { arbConfigAndCode } from './arbitraries.js';

const cfg = DEFAULT_CONFIG;
const asm = (lines: string[]) => assembleProgram(lines.join('\n'), cfg);
const L = (flags = '') => `NOP unit=load ${flags}`;
const C = (flags = '') => `NOP unit=compute ${flags}`;
const S = (flags = '') => `NOP unit=store ${flags}`;

function tokenError(lines: string[], queues?: { load: number; compute: number; store: number }): string {
  try {
    checkTokenBalance(asm(lines), queues ? { queues } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(IsaError);
    expect((e as IsaError).code).toBe('NB-I001');
    return (e as Error).message;
  }
  throw new Error('no deadlock found');
}

/** A double-buffered pipeline: load runs up to two tiles ahead, store one behind. */
function pipeline(tiles: number): string[] {
  const out: string[] = [C('push_prev'), C('push_prev')]; // two free input buffers
  out.push(S('push_prev')); // one free output buffer
  for (let t = 0; t < tiles; t++) {
    out.push(L('pop_next push_next')); // wait for a free input buffer, fill it
    out.push(C('pop_prev pop_next push_prev push_next')); // consume input, wait for a free output buffer
    out.push(S('pop_prev push_prev')); // drain output, free it
  }
  // Drain the credits so nothing is left over.
  out.push(L('pop_next'), L('pop_next'), C('pop_next'), 'HALT');
  return out;
}

describe('token checker', () => {
  it('accepts a balanced double-buffered pipeline, with and without queue bounds', () => {
    const code = asm(pipeline(20));
    const r = checkTokenBalance(code, { queues: { load: 1, compute: 1, store: 1 }, strict: true });
    expect(r.warnings).toEqual([]);
    expect(r.leftover).toEqual({ 'load->compute': 0, 'compute->load': 0, 'compute->store': 0, 'store->compute': 0 });
    const unbounded = checkTokenBalance(code);
    expect(unbounded.warnings).toEqual([]);
    expect(unbounded.peak['compute->load']).toBe(2);
  });

  it('rejects a pop that is never pushed, naming the instruction, unit and channel', () => {
    const msg = tokenError([L('push_next'), C('pop_prev'), C('pop_prev'), 'HALT']);
    expect(msg).toMatch(/^instruction 2: token deadlock after 2 of 3 instructions/);
    expect(msg).toMatch(
      /instruction 2 \(NOP, compute unit\) waits for a load->compute token \(0 available, 0 more pushes/,
    );
  });

  it('rejects circular waits', () => {
    const msg = tokenError([L('pop_next push_next'), C('pop_prev push_prev'), 'HALT']);
    expect(msg).toMatch(/instruction 0 \(NOP, load unit\) waits for a compute->load token \(0 available, 1 more push/);
    expect(msg).toMatch(/instruction 1 \(NOP, compute unit\) waits for a load->compute token/);
  });

  it('rejects a deadlock caused by a full queue stalling fetch (and only with the bound)', () => {
    const lines = [C('pop_next'), C(), C(), S('push_prev'), 'HALT'];
    expect(checkTokenBalance(asm(lines)).warnings).toEqual([]);
    expect(checkTokenBalance(asm(lines), { queues: { load: 8, compute: 3, store: 8 } }).fetched).toBe(5);
    const msg = tokenError(lines, { load: 8, compute: 2, store: 8 });
    expect(msg).toMatch(
      /instruction 0 \(NOP, compute unit\) waits for a store->compute token \(0 available, 1 more push/,
    );
    expect(msg).toMatch(/fetch is stalled at instruction 2 \(NOP\): the compute queue is full \(depth 2\)/);
  });

  it('ignores code after HALT (warning) and reports leftover tokens and a missing HALT', () => {
    const r = checkTokenBalance(asm([L('push_next'), 'HALT', C('pop_prev'), C('pop_prev')]));
    expect(r.fetched).toBe(2);
    expect(r.leftover['load->compute']).toBe(1);
    expect(r.warnings).toEqual([
      { code: 'NB-I102', message: 'instructions 2..3 come after the HALT at 1 and are never fetched' },
      { code: 'NB-I103', message: 'tokens pushed but never popped: 1 on load->compute' },
    ]);
    expect(checkTokenBalance(asm([S('push_prev')])).warnings).toEqual([
      { code: 'NB-I101', message: 'the program has no HALT: fetch runs to the end of the code' },
      { code: 'NB-I103', message: 'tokens pushed but never popped: 1 on store->compute' },
    ]);
    let strict: unknown;
    try {
      checkTokenBalance(asm([S('push_prev'), 'HALT']), { strict: true });
    } catch (e) {
      strict = e;
    }
    expect(strict).toMatchObject({
      code: 'NB-I003',
      message: 'token checker (strict): tokens pushed but never popped: 1 on store->compute [NB-I103]',
    });
  });

  it('rejects token counts beyond the 16-bit counters', () => {
    const code = asm([L('push_next'), 'HALT']);
    const many = Array.from({ length: 70000 }, () => code[0]!);
    expect(() => checkTokenBalance([...many, code[1]!])).toThrow(
      /load->compute can hold 70000 tokens at once, more than its 16-bit counter/,
    );
  });

  it('never throws anything but IsaError on random programs', () => {
    fc.assert(
      fc.property(arbConfigAndCode, ([c, code]) => {
        try {
          checkTokenBalance(code, { queues: c.queues });
        } catch (e) {
          expect(e).toBeInstanceOf(IsaError);
        }
      }),
      { numRuns: 200 },
    );
  });
});
