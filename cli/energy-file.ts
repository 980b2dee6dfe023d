/**
 * `nibble sim --energy FILE`: an energy table in the shape of
 * sim/energy-table.json, read strictly (io/ and arch/json.ts) and checked for
 * fields the simulator would silently ignore (a typo such as "mac.int4 " or
 * "pj" would otherwise leave the default energy in place). The values are then
 * checked by sim's validateEnergyTable.
 */
import { ConfigError, didYouMean } from '../arch/index.js';
import type { SimApi } from './engines.js';
import { readJsonFile } from './inputs.js';

/** Maps whose keys the user chooses (new DRAM kinds); their values follow the first default entry. */
const OPEN_MAPS = new Set(['dram.kinds']);

/** The first field of `value` that `template` (the default table) does not have, as an error. */
function checkKnownFields(value: unknown, template: unknown, path: string, file: string): void {
  if (Array.isArray(template)) {
    if (Array.isArray(value)) value.forEach((v, i) => checkKnownFields(v, template[0], `${path}[${i}]`, file));
    return;
  }
  if (typeof template !== 'object' || template === null) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return; // validateEnergyTable says why
  const t = template as Record<string, unknown>;
  const open = OPEN_MAPS.has(path);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const where = path ? `${path}.${k}` : k;
    if (open) {
      checkKnownFields(v, Object.values(t)[0], where, file);
      continue;
    }
    if (!(k in t)) {
      const known = Object.keys(t);
      throw new ConfigError(
        `unknown field '${k}'${didYouMean(k, known)} (known: ${known.join(', ')}): it would be ignored`,
        `${file}: ${where}`,
      );
    }
    checkKnownFields(v, t[k], where, file);
  }
}

export function loadEnergyFile(path: string, sim: Pick<SimApi, 'validateEnergyTable' | 'DEFAULT_ENERGY_TABLE'>) {
  const parsed = readJsonFile(path, 'energy table', ConfigError);
  checkKnownFields(parsed, sim.DEFAULT_ENERGY_TABLE, '', path);
  return sim.validateEnergyTable(parsed, path);
}
