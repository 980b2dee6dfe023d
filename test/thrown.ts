/** The message of the typed error a call throws; fails the test if it throws nothing or another class. */
import { expect } from 'vitest';

export function thrownMessage(f: () => unknown, errorClass: abstract new (...args: never[]) => Error): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(errorClass);
    return (e as Error).message;
  }
  throw new Error(`expected a ${errorClass.name}`);
}
