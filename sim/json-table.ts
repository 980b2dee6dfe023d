/** Reading a user's JSON table file (energy, area): one ConfigError naming the file for every failure. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../arch/index.js';

export function readJsonTable<T>(path: string, what: string, validate: (parsed: unknown, where: string) => T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`not valid JSON (${(e as Error).message})`, path);
  }
  return validate(parsed, path);
}
