/**
 * The bundled CLI's stand-in for the string-width package (cli/build-bundle.mjs
 * aliases it for yargs, cliui and wrap-ansi): their string-width versions build
 * Intl segmenters and Unicode property regular expressions when they load,
 * about a third of a small command's start-up, though only help text is ever
 * measured. Printable ASCII (all of nibble's help) is one column per
 * character in every version; anything else goes to the installed package,
 * loaded on first use.
 */
import { createRequire } from 'node:module';

type StringWidth = (text: string, options?: object) => number;

let real: StringWidth | undefined;

export default function stringWidth(text: string, options?: object): number {
  if (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text)) return text.length;
  if (!real) {
    const mod = createRequire(import.meta.url)('string-width') as StringWidth | { default: StringWidth };
    real = typeof mod === 'function' ? mod : mod.default;
  }
  return real(text, options);
}
