/**
 * A small Verilog-2005 emitter: modules with parameters and ANSI ports, wires
 * and regs with (named) widths, continuous assignments, combinational and
 * clocked processes, generate loops and instances. Statements inside processes
 * are Verilog text; everything structural is typed, so the emitter can
 *  - declare exactly the named constants a module uses (ports' constants as
 *    `parameter`s, the rest as `localparam`s), each with its derivation;
 *  - give every register a clocked process assigns its synchronous reset;
 *  - connect an instance's unlisted ports to the parent's signals of the same
 *    name, declaring the nets its outputs drive, and refuse a port it cannot
 *    connect or whose width differs.
 */
import { Dim, range, widthValue, type Width } from './width.js';

export interface ConstantDef {
  readonly name: string;
  readonly value: number;
  readonly doc: string;
}

/** The named constants of one design (its config's derived numbers); every module declares the ones it uses. */
export class Constants implements Iterable<ConstantDef> {
  private readonly defs = new Map<string, ConstantDef>();

  define(name: string, value: number, doc: string): Dim {
    if (!Number.isSafeInteger(value)) throw new Error(`internal: constant ${name} = ${value} is not an integer`);
    const old = this.defs.get(name);
    if (old && old.value !== value) throw new Error(`internal: constant ${name} defined as ${old.value} and ${value}`);
    this.defs.set(name, { name, value, doc });
    return Dim.named(name, value);
  }

  get(name: string): ConstantDef | undefined {
    return this.defs.get(name);
  }

  [Symbol.iterator](): Iterator<ConstantDef> {
    return this.defs.values();
  }
}

export type SignalKind = 'input' | 'output' | 'wire' | 'reg';

export interface SignalOptions {
  signed?: boolean;
  /** one comment line describing the signal */
  doc?: string;
}

export interface PortOptions extends SignalOptions {
  /** Verilator lint rules waived for this port (e.g. UNUSEDSIGNAL for a queue word a unit decodes in part) */
  lintOff?: readonly string[];
}

export class Signal {
  constructor(
    readonly name: string,
    readonly width: Width,
    readonly kind: SignalKind,
    readonly signed: boolean,
    /** `output reg` */
    readonly isReg: boolean,
    /** unpacked dimension of a memory, e.g. `0:7` */
    readonly array: string | undefined,
    readonly doc: string | undefined,
    readonly lintOff: readonly string[] = [],
  ) {}

  toString(): string {
    return this.name;
  }
}

type Render = (indent: string) => string[];

const STATEMENT_WIDTH = 110;

/** Strip the common indentation of a multi-line template and its blank first/last lines. */
export function dedent(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut).replace(/\s+$/, ''));
}

/** Join short statements onto lines of at most STATEMENT_WIDTH characters. */
function packStatements(stmts: string[], indent: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const s of stmts) {
    if (cur && indent.length + cur.length + 1 + s.length > STATEMENT_WIDTH) {
      out.push(indent + cur);
      cur = s;
    } else cur = cur ? `${cur} ${s}` : s;
  }
  if (cur) out.push(indent + cur);
  return out;
}

function declType(s: Signal): string {
  const r = range(s.width);
  return [s.signed ? 'signed' : '', r].filter(Boolean).join(' ');
}

/** Non-blocking assignments in a process body: `name` or `name[index]` before `<=` at a statement start. */
function assignedRegs(body: string): { name: string; index: string | undefined }[] {
  const out: { name: string; index: string | undefined }[] = [];
  const re = /(?:^|;|\bbegin\b|\belse\b|\))\s*([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*<=/gm;
  for (const m of body.replace(/\/\/[^\n]*/g, '').matchAll(re)) out.push({ name: m[1]!, index: m[2] });
  return out;
}

export interface InstanceOptions {
  /** parameter overrides of the child */
  params?: Record<string, Width | string>;
  /** port -> expression; '' leaves an output open. Unlisted ports connect to the parent signal of the same name. */
  ports?: Record<string, string | Signal>;
}

interface InstanceItem {
  child: VerilogModule;
  name: string;
  params: Record<string, Width | string>;
  ports: Record<string, string>;
}

/** A scope: a module body or a generate block. */
export class Block {
  protected readonly items: Render[] = [];
  protected readonly signals = new Map<string, Signal>();
  protected readonly instances: InstanceItem[] = [];

  constructor(
    protected readonly parent: Block | undefined,
    protected readonly root: VerilogModule | undefined,
  ) {}

  protected get module(): VerilogModule {
    return this.root ?? (this as unknown as VerilogModule);
  }

  /** The signal `name` visible in this scope. */
  lookup(name: string): Signal | undefined {
    return this.signals.get(name) ?? this.parent?.lookup(name);
  }

  protected declare(s: Signal): Signal {
    if (this.signals.has(s.name)) throw new Error(`internal: ${this.module.name}: '${s.name}' declared twice`);
    this.signals.set(s.name, s);
    return s;
  }

  /** `wire [w-1:0] name;` or, with `value`, `wire [w-1:0] name = value;`; `array: '0:7'` (or '0:3][0:4') adds unpacked dimensions. */
  wire(name: string, width: Width = 1, opts: SignalOptions & { value?: string; array?: string } = {}): Signal {
    const s = this.declare(new Signal(name, width, 'wire', !!opts.signed, false, opts.array, opts.doc));
    this.items.push((ind) => [
      ...(opts.doc ? [`${ind}// ${opts.doc}`] : []),
      `${ind}${['wire', declType(s), name].filter(Boolean).join(' ')}${opts.array ? ` [${opts.array}]` : ''}${
        opts.value !== undefined ? ` = ${opts.value}` : ''
      };`,
    ]);
    return s;
  }

  /** `reg [w-1:0] name;`; `array: 'lo:hi'` makes it a memory; `lsb: 1` numbers the bits [w:1]. */
  reg(name: string, width: Width = 1, opts: SignalOptions & { array?: string; lsb?: number } = {}): Signal {
    const s = this.declare(new Signal(name, width, 'reg', !!opts.signed, false, opts.array, opts.doc));
    const type = [s.signed ? 'signed' : '', range(width, opts.lsb ?? 0)].filter(Boolean).join(' ');
    this.items.push((ind) => [
      ...(opts.doc ? [`${ind}// ${opts.doc}`] : []),
      `${ind}${['reg', type, name].filter(Boolean).join(' ')}${opts.array ? ` [${opts.array}]` : ''};`,
    ]);
    return s;
  }

  /** Several 1-bit or same-width regs on one line: `reg a, b, c;`. */
  regs(names: readonly string[], width: Width = 1, opts: SignalOptions = {}): Signal[] {
    const sigs = names.map((n) => this.declare(new Signal(n, width, 'reg', !!opts.signed, false, undefined, opts.doc)));
    this.items.push((ind) => [
      ...(opts.doc ? [`${ind}// ${opts.doc}`] : []),
      `${ind}${['reg', declType(sigs[0]!), names.join(', ')].filter(Boolean).join(' ')};`,
    ]);
    return sigs;
  }

  assign(lhs: string | Signal, rhs: string): void {
    this.items.push((ind) => [`${ind}assign ${String(lhs)} = ${rhs};`]);
  }

  /** `always @(*)` with the given statements. */
  comb(body: string): void {
    const lines = dedent(body);
    this.items.push((ind) =>
      lines.length === 1
        ? [`${ind}always @(*) ${lines[0]}`]
        : [`${ind}always @(*) begin`, ...lines.map((l) => `${ind}  ${l}`), `${ind}end`],
    );
  }

  /**
   * `always @(posedge clk)`: the statements run when `rst` is low; every
   * register they assign is reset to 0 (`reset: false`: no reset, for RAM arrays).
   */
  clocked(body: string, opts: { reset?: boolean } = {}): void {
    const lines = dedent(body);
    this.items.push((ind) => {
      if (opts.reset === false) {
        return lines.length === 1
          ? [`${ind}always @(posedge clk) ${lines[0]}`]
          : [`${ind}always @(posedge clk) begin`, ...lines.map((l) => `${ind}  ${l}`), `${ind}end`];
      }
      const resets: string[] = [];
      const seen = new Set<string>();
      for (const { name, index } of assignedRegs(body)) {
        const s = this.lookup(name);
        if (!s || !(s.kind === 'reg' || s.isReg))
          throw new Error(`internal: ${this.module.name}: a clocked process assigns '${name}', which is not a reg`);
        const stmt = s.array ? `${name}${index} <= 0;` : `${name} <= 0;`;
        if (!seen.has(stmt)) resets.push(stmt);
        seen.add(stmt);
      }
      if (lines.length === 1 && resets.length === 1 && !lines[0]!.includes('begin')) {
        return [`${ind}always @(posedge clk)`, `${ind}  if (rst) ${resets[0]}`, `${ind}  else ${lines[0]}`];
      }
      return [
        `${ind}always @(posedge clk) begin`,
        `${ind}  if (rst) begin`,
        ...packStatements(resets, `${ind}    `),
        `${ind}  end else begin`,
        ...lines.map((l) => `${ind}    ${l}`),
        `${ind}  end`,
        `${ind}end`,
      ];
    });
  }

  /** An instance of `child`. */
  instance(child: VerilogModule, name: string, opts: InstanceOptions = {}): void {
    const ports: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.ports ?? {})) {
      if (!child.port(k)) throw new Error(`internal: ${this.module.name}.${name}: ${child.name} has no port '${k}'`);
      ports[k] = String(v);
    }
    for (const k of Object.keys(opts.params ?? {}))
      if (!child.params.some((p) => p.name === k))
        throw new Error(`internal: ${this.module.name}.${name}: ${child.name} has no parameter '${k}'`);
    const item: InstanceItem = { child, name, params: opts.params ?? {}, ports };
    this.instances.push(item);
    this.items.push((ind) => this.renderInstance(item, ind));
  }

  private renderInstance(item: InstanceItem, ind: string): string[] {
    const env = new Map<string, number>();
    for (const [k, v] of Object.entries(item.params)) if (typeof v !== 'string') env.set(k, widthValue(v));
    const conns = item.child.ports.map((p) => {
      const explicit = item.ports[p.name];
      const expr = explicit ?? p.name;
      const target = explicit === undefined || /^[A-Za-z_]\w*$/.test(explicit) ? this.lookup(expr) : undefined;
      if (explicit === undefined && !target)
        throw new Error(`internal: ${this.module.name}.${item.name}: nothing drives or receives port '${p.name}'`);
      if (target && explicit === undefined && p.kind === 'output' && target.kind === 'input')
        throw new Error(
          `internal: ${this.module.name}.${item.name}: output '${p.name}' would drive an input of the same name`,
        );
      if (target) {
        const want = Dim.of(p.width).evaluate(env);
        if (widthValue(target.width) !== want)
          throw new Error(
            `internal: ${this.module.name}.${item.name}: port '${p.name}' is ${want} bits, '${expr}' is ${widthValue(target.width)}`,
          );
      }
      return { port: p.name, expr };
    });
    const params = Object.entries(item.params).map(([k, v]) => `.${k}(${String(v)})`);
    const head = `${ind}${item.child.name}${params.length ? ` #(${params.join(', ')})` : ''} ${item.name} (`;
    const w = Math.max(...conns.map((c) => c.port.length));
    return [
      head,
      ...conns.map((c, i) => `${ind}  .${c.port.padEnd(w)} (${c.expr})${i < conns.length - 1 ? ',' : ''}`),
      `${ind});`,
    ];
  }

  /** `for (g = 0; g < count; g = g + 1) begin : label` around what `build` adds (a generate loop). */
  forEach(label: string, genvar: string, count: Width | string, build: (b: Block) => void): void {
    const inner = new Block(this, this.module);
    const before = this.module.genvarCount();
    this.module.useGenvar(genvar);
    build(inner);
    const introduced = this.module.genvarsSince(before);
    const topLevel = this.parent === undefined;
    const limit = typeof count === 'string' ? count : String(count);
    this.items.push((ind) => {
      const body = [
        `${ind}${topLevel ? '  ' : ''}for (${genvar} = 0; ${genvar} < ${limit}; ${genvar} = ${genvar} + 1) begin : ${label}`,
        ...inner.render(`${ind}${topLevel ? '    ' : '  '}`),
        `${ind}${topLevel ? '  ' : ''}end`,
      ];
      if (!topLevel) return body;
      return [
        ...(introduced.length ? [`${ind}genvar ${introduced.join(', ')};`] : []),
        `${ind}generate`,
        ...body,
        `${ind}endgenerate`,
      ];
    });
  }

  /** A conditional generate block inside a loop: `if (cond) begin : a ... end else begin : b ... end`. */
  ifGenerate(
    cond: string,
    label: string,
    build: (b: Block) => void,
    elseLabel: string,
    buildElse: (b: Block) => void,
  ): void {
    if (this.parent === undefined) throw new Error('internal: ifGenerate is only supported inside a generate loop');
    const a = new Block(this, this.module);
    const b = new Block(this, this.module);
    build(a);
    buildElse(b);
    this.items.push((ind) => [
      `${ind}if (${cond}) begin : ${label}`,
      ...a.render(`${ind}  `),
      `${ind}end else begin : ${elseLabel}`,
      ...b.render(`${ind}  `),
      `${ind}end`,
    ]);
  }

  comment(text: string): void {
    this.items.push((ind) => text.split('\n').map((l) => `${ind}// ${l}`));
  }

  /** A blank line and a section heading. */
  section(title: string): void {
    this.items.push((ind) => ['', `${ind}// ${'-'.repeat(Math.max(4, 64 - title.length))} ${title}`]);
  }

  /** Verilog text as is (dedented), for what the typed calls do not cover. */
  verbatim(text: string): void {
    const lines = dedent(text);
    this.items.push((ind) => lines.map((l) => (l ? ind + l : l)));
  }

  /** Waive Verilator lint rules for the declarations `build` adds. */
  lintOff(rules: readonly string[], build: () => void): void {
    this.items.push((ind) => rules.map((r) => `${ind}/* verilator lint_off ${r} */`));
    build();
    this.items.push((ind) => rules.map((r) => `${ind}/* verilator lint_on ${r} */`));
  }

  render(indent: string): string[] {
    return this.items.flatMap((r) => r(indent));
  }
}

export interface ParamDef {
  readonly name: string;
  readonly value: number;
  readonly doc: string;
}

/** One Verilog module. */
export class VerilogModule extends Block {
  readonly ports: Signal[] = [];
  readonly params: ParamDef[] = [];
  private readonly portComments = new Map<number, string>();
  private readonly genvars: string[] = [];
  private readonly autoNets = new Map<string, Signal>();
  /** instance name -> the nets its outputs drive */
  private readonly netsByInstance = new Map<string, Signal[]>();

  constructor(
    readonly name: string,
    /** what the module is, a few lines; the file header adds the config */
    readonly doc: string,
    readonly constants: Constants = new Constants(),
  ) {
    super(undefined, undefined);
  }

  port(name: string): Signal | undefined {
    return this.ports.find((p) => p.name === name);
  }

  /** A `parameter` the instantiating module sets (generic library modules). */
  param(name: string, value: number, doc: string): Dim {
    this.params.push({ name, value, doc });
    return Dim.named(name, value);
  }

  input(name: string, width: Width = 1, opts: PortOptions = {}): Signal {
    const s = this.declare(new Signal(name, width, 'input', !!opts.signed, false, undefined, opts.doc, opts.lintOff));
    this.ports.push(s);
    return s;
  }

  output(name: string, width: Width = 1, opts: PortOptions & { reg?: boolean } = {}): Signal {
    const s = this.declare(
      new Signal(name, width, 'output', !!opts.signed, !!opts.reg, undefined, opts.doc, opts.lintOff),
    );
    this.ports.push(s);
    return s;
  }

  /** A comment line in the port list before the next port. */
  portGroup(comment: string): void {
    this.portComments.set(this.ports.length, comment);
  }

  /** @internal */ useGenvar(g: string): void {
    if (!this.genvars.includes(g)) this.genvars.push(g);
  }
  /** @internal */ genvarCount(): number {
    return this.genvars.length;
  }
  /** @internal */ genvarsSince(n: number): string[] {
    return this.genvars.slice(n);
  }

  override lookup(name: string): Signal | undefined {
    return super.lookup(name) ?? this.autoNets.get(name);
  }

  /** Declare the nets that instances' unlisted output ports drive. */
  private resolveNets(): void {
    this.autoNets.clear();
    this.netsByInstance.clear();
    for (const inst of this.instances) {
      for (const p of inst.child.ports) {
        if (p.kind !== 'output' || inst.ports[p.name] !== undefined || this.signals.has(p.name)) continue;
        if (this.autoNets.has(p.name)) throw new Error(`internal: ${this.name}: two instances drive '${p.name}'`);
        const names = Dim.of(p.width).names.filter((n) => inst.child.params.some((q) => q.name === n));
        if (names.length)
          throw new Error(
            `internal: ${this.name}.${inst.name}: connect '${p.name}' explicitly (its width uses parameter ${names[0]})`,
          );
        const net = new Signal(p.name, p.width, 'wire', p.signed, false, undefined, undefined);
        this.autoNets.set(p.name, net);
        this.netsByInstance.set(inst.name, [...(this.netsByInstance.get(inst.name) ?? []), net]);
      }
    }
  }

  /** The module's Verilog text. */
  renderModule(): string {
    this.resolveNets();
    const body = this.render('  ');
    const nets = [...this.netsByInstance].flatMap(([inst, sigs]) => [
      `  // driven by ${inst}`,
      ...sigs.map((s) => `  ${['wire', declType(s), s.name].filter(Boolean).join(' ')};`),
    ]);
    const portRows = this.ports.map((p) => ({
      dir: p.kind === 'input' ? 'input' : 'output',
      type: [p.isReg ? 'reg' : 'wire', p.signed ? 'signed' : ''].filter(Boolean).join(' '),
      range: range(p.width),
      name: p.name,
      doc: p.doc,
    }));
    const portText = portRows.map((r) => `${r.dir} ${r.type} ${r.range}`).join('\n');
    const { header: headerConsts, local: localConsts } = this.constantsUsed(portText, [...nets, ...body].join('\n'));
    const paramRows = [...this.params, ...headerConsts].map((p) => ({
      text: `parameter ${p.name} = ${p.value}`,
      doc: p.doc,
    }));
    const out: string[] = [...this.doc.split('\n').map((l) => `// ${l}`)];
    if (paramRows.length) {
      out.push(`module ${this.name} #(`);
      out.push(...commaRows(paramRows, '  '));
      out.push(') (');
    } else out.push(`module ${this.name} (`);
    out.push(...this.renderPorts(portRows));
    out.push(');');
    if (localConsts.length) out.push(...commaFree(localConsts));
    if (nets.length) out.push(...nets);
    out.push(...body, 'endmodule');
    return out.join('\n') + '\n';
  }

  /** The constants this module declares: those its ports use (as parameters) and those only its body uses. */
  private constantsUsed(portText: string, bodyText: string): { header: ConstantDef[]; local: ConstantDef[] } {
    // identifiers outside comments, sized literals ('d12) and named connections (.W(...))
    const code = (t: string) =>
      t
        .replace(/\/\/[^\n]*/g, '')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/'s?[bdh][0-9a-fA-F_xz]+/g, '')
        .replace(/\.[A-Za-z_]\w*/g, '');
    const used = (t: string) => new Set(code(t).match(/\b[A-Za-z_]\w*\b/g) ?? []);
    const inPorts = used(portText);
    const inBody = used(bodyText);
    const own = new Set(this.params.map((p) => p.name));
    const consts = [...this.constants].filter((c) => !own.has(c.name));
    return {
      header: consts.filter((c) => inPorts.has(c.name)),
      local: consts.filter((c) => !inPorts.has(c.name) && inBody.has(c.name)),
    };
  }

  private renderPorts(
    rows: { dir: string; type: string; range: string; name: string; doc: string | undefined }[],
  ): string[] {
    const wd = Math.max(...rows.map((r) => r.dir.length));
    const wt = Math.max(...rows.map((r) => r.type.length));
    const wr = Math.max(...rows.map((r) => r.range.length));
    const out: string[] = [];
    rows.forEach((r, i) => {
      const c = this.portComments.get(i);
      if (c) out.push(`  // ${c}`);
      const lint = this.ports[i]!.lintOff;
      for (const rule of lint) out.push(`  /* verilator lint_off ${rule} */`);
      const cols = [r.dir.padEnd(wd), r.type.padEnd(wt), ...(wr ? [r.range.padEnd(wr)] : []), r.name].join(' ');
      const sep = i < rows.length - 1 ? ',' : '';
      out.push(`  ${cols}${sep}${r.doc ? `  // ${r.doc}` : ''}`);
      for (const rule of lint) out.push(`  /* verilator lint_on ${rule} */`);
    });
    return out;
  }
}

/** `parameter` rows with commas between and a trailing comment each. */
function commaRows(rows: readonly { text: string; doc: string }[], ind: string): string[] {
  const texts = rows.map((r, i) => r.text + (i < rows.length - 1 ? ',' : ''));
  const w = Math.max(...texts.map((t) => t.length));
  return rows.map((r, i) => `${ind}${texts[i]!.padEnd(w)}  // ${r.doc}`);
}

function commaFree(consts: ConstantDef[]): string[] {
  const w = Math.max(...consts.map((c) => `localparam ${c.name} = ${c.value};`.length));
  return consts.map((c) => `  ${`localparam ${c.name} = ${c.value};`.padEnd(w)}  // ${c.doc}`);
}
