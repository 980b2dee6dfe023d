/**
 * The bundled CLI's stand-in for `assert` in yargs's platform shim
 * (cli/build-bundle.mjs): node:assert and its internals load in every command
 * (start-up time), and yargs uses only `strictEqual` and `notStrictEqual`,
 * for its own invariants. A failed one is a bug, an internal error.
 */

class AssertionError extends Error {
  override name = 'AssertionError';
}

export function strictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected))
    throw new AssertionError(message ?? `expected ${String(expected)}, got ${String(actual)}`);
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (Object.is(actual, expected)) throw new AssertionError(message ?? `expected anything but ${String(expected)}`);
}
