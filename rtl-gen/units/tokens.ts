/**
 * Dependency tokens (docs/architecture.md section 4): nibble_tokens holds one
 * counter per channel of the ISA (isa TOKEN_CHANNELS); a producer's retire with
 * its push flag adds a token, a consumer's start with its pop flag takes one.
 * The helpers name the per-unit token ports the same way in every unit.
 */
import type { TokenChannel, Unit } from '../../isa/index.js';
import type { CoreFacts } from '../core-facts.js';
import type { BitFields } from '../emit/fields.js';
import { VerilogModule } from '../emit/module.js';
import { zext } from '../emit/width.js';
import type { DepFlag } from '../isa-view.js';

/** Signal-name prefix of each unit and of its queue. */
export const UNIT_PREFIX = { load: 'ld', compute: 'cp', store: 'st' } as const satisfies Record<Unit, string>;
export const QUEUE_PREFIX = { load: 'lq', compute: 'cq', store: 'sq' } as const satisfies Record<Unit, string>;

/** `load->compute` -> `l2c`. */
export function channelTag(ch: TokenChannel): string {
  const [from, to] = ch.split('->') as [Unit, Unit];
  return `${from[0]}2${to[0]}`;
}

/** The token ports of a unit: `tok_<ch>` in for each channel it pops, `<u>_<flag>` out for each flag it has. */
export function tokenPorts(m: VerilogModule, f: CoreFacts, u: Unit): void {
  for (const flag of f.isa.unitFlags(u)) {
    const ch = f.isa.channel(u, flag)!;
    if (flag.startsWith('pop')) m.input(`tok_${channelTag(ch)}`, 1, { doc: `channel ${ch} holds a token` });
  }
  for (const flag of f.isa.unitFlags(u)) {
    const ch = f.isa.channel(u, flag)!;
    m.output(`${UNIT_PREFIX[u]}_${flag}`, 1, {
      doc: flag.startsWith('pop') ? `takes a token from ${ch} (start)` : `adds a token to ${ch} (retire)`,
    });
  }
}

/** The unit's head may start as far as tokens go: every channel it pops holds a token. */
export function tokensReady(f: CoreFacts, u: Unit, head: BitFields<string>, headVec: string): string {
  const terms = f.isa
    .unitFlags(u)
    .filter((flag) => flag.startsWith('pop'))
    .map((flag) => `(!${head.slice(headVec, flag)} || tok_${channelTag(f.isa.channel(u, flag)!)})`);
  return terms.length ? terms.join(' && ') : "1'b1";
}

/** Drive `<u>_pop_*` from the start and `<u>_push_*` from the retire and the retiring instruction's flags. */
export function tokenEvents(
  m: VerilogModule,
  f: CoreFacts,
  u: Unit,
  start: string,
  head: BitFields<string>,
  headVec: string,
  retire: string,
  pushFlag: (flag: DepFlag) => string,
): void {
  for (const flag of f.isa.unitFlags(u)) {
    const out = `${UNIT_PREFIX[u]}_${flag}`;
    if (flag.startsWith('pop')) m.assign(out, `${start} && ${head.slice(headVec, flag)}`);
    else m.assign(out, `${retire} && ${pushFlag(flag)}`);
  }
}

export function tokensModule(f: CoreFacts): VerilogModule {
  const m = new VerilogModule(
    'nibble_tokens',
    'Dependency-token counters, one per channel (docs/architecture.md section 4).',
    f.c,
  );
  m.input('clk');
  m.input('rst');
  const counters: { tag: string; push: string; pop: string }[] = [];
  for (const ch of f.isa.channels) {
    const [from, to] = ch.split('->') as [Unit, Unit];
    const pushFlag = f.isa.unitFlags(from).find((fl) => fl.startsWith('push') && f.isa.channel(from, fl) === ch)!;
    const popFlag = f.isa.unitFlags(to).find((fl) => fl.startsWith('pop') && f.isa.channel(to, fl) === ch)!;
    const tag = channelTag(ch);
    m.portGroup(`channel ${ch}`);
    const push = `${UNIT_PREFIX[from]}_${pushFlag}`;
    const pop = `${UNIT_PREFIX[to]}_${popFlag}`;
    m.input(push);
    m.input(pop);
    m.output(`tok_${tag}`);
    counters.push({ tag, push, pop });
  }
  m.regs(
    counters.map((c) => `tk_${c.tag}`),
    f.d.TOKW,
  );
  m.clocked(
    counters
      .map((c) => `tk_${c.tag} <= tk_${c.tag} + ${zext(c.push, 1, f.d.TOKW)} - ${zext(c.pop, 1, f.d.TOKW)};`)
      .join('\n'),
  );
  for (const c of counters) m.assign(`tok_${c.tag}`, `tk_${c.tag} != 0`);
  return m;
}
