/**
 * Reading a user's JSON table file (energy, area): a regular, size-capped text
 * file (io/), parsed strictly (arch/json.ts: duplicate keys and syntax errors
 * at file:line:col), and checked for fields the model would silently ignore (a
 * typo such as "mac.int4 " or "pj" would otherwise leave the default in place).
 */
import { ConfigError, didYouMean, parseJsonStrict } from '../arch/index.js';
import { readInputText } from '../io/index.js';

export interface TableShape {
  /** the default table: every field a user's table may have */
  template: unknown;
  /** maps whose keys the user chooses (new DRAM kinds): their values follow the template's first entry */
  openMaps?: readonly string[];
}

/** The first field of `value` that `template` does not have, as a ConfigError at `file: path`. */
export function checkKnownFields(value: unknown, shape: TableShape, file: string): void {
  const open = new Set(shape.openMaps ?? []);
  const walk = (v: unknown, template: unknown, path: string): void => {
    if (Array.isArray(template)) {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, template[0], `${path}[${i}]`));
      return;
    }
    if (typeof template !== 'object' || template === null) return;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return; // the validator says why
    const t = template as Record<string, unknown>;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const where = path ? `${path}.${k}` : k;
      if (open.has(path)) walk(x, Object.values(t)[0], where);
      else if (!(k in t)) {
        const known = Object.keys(t);
        throw new ConfigError(
          `unknown field '${k}'${didYouMean(k, known)} (known: ${known.join(', ')}): it would be ignored`,
          `${file}: ${where}`,
        );
      } else walk(x, t[k], where);
    }
  };
  walk(value, shape.template, '');
}

export function readJsonTable<T>(
  path: string,
  what: string,
  shape: TableShape,
  validate: (parsed: unknown, where: string) => T,
): T {
  const parsed = parseJsonStrict(readInputText(path, what), path, ConfigError);
  checkKnownFields(parsed, shape, path);
  return validate(parsed, path);
}
