/**
 * Reading generated Verilog in tests: the width of a declared signal, with the
 * module's parameters and localparams substituted (`[IX-1:0]` with IX = 12 is 12).
 */

/** name -> value of every `parameter` / `localparam` in the text. */
export function constantsOf(text: string): Map<string, number> {
  return new Map(
    [...text.matchAll(/\b(?:parameter|localparam)\s+(\w+)\s*=\s*(\d+)/g)].map((m) => [m[1]!, Number(m[2])]),
  );
}

function evaluate(expr: string, consts: Map<string, number>): number {
  const num = expr.replace(/\b[A-Za-z_]\w*\b/g, (id) => {
    const v = consts.get(id);
    if (v === undefined) throw new Error(`unknown constant ${id} in [${expr}]`);
    return String(v);
  });
  if (!/^[\d\s+\-*()]+$/.test(num)) throw new Error(`not a constant expression: ${expr}`);
  return Function(`return (${num});`)() as number;
}

/** The declared width of `name` (a port, wire or reg) in one module's text. */
export function declaredWidth(text: string, name: string): number {
  const consts = constantsOf(text);
  const decl = new RegExp(
    String.raw`\b(?:input|output|wire|reg)\b(?:\s+(?:wire|reg))?(?:\s+signed)?\s*(\[[^\]]+\])?\s*((?:\w+\s*,\s*)*)\b${name}\b\s*(?:[,;=)]|$)`,
  );
  const lines = text.split('\n').filter((l) => decl.test(l.replace(/\/\/.*$/, '')));
  if (lines.length !== 1) throw new Error(`'${name}' is declared ${lines.length} times`);
  const r = decl.exec(lines[0]!.replace(/\/\/.*$/, ''))![1];
  if (!r) return 1;
  const [msb, lsb] = r.slice(1, -1).split(':') as [string, string];
  return evaluate(msb, consts) - evaluate(lsb, consts) + 1;
}
