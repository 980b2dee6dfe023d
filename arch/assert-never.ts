/**
 * Exhaustiveness for switches over unions (after TypeScript's
 * Debug.assertNever): `default: return assertNever(x)` makes a new member of
 * the union a compile error at every switch that does not handle it, and
 * reaching it at run time (a value the types ruled out) an internal error
 * rather than a silent fall-through.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`internal error: unhandled ${what} ${JSON.stringify(value)}`);
}
