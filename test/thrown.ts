/** The message of the typed error a call throws; fails the test if it throws nothing or another class. */
import { expect } from 'vitest';
import { NibbleError, type DiagnosticCode } from '../arch/index.js';

export function thrownMessage(f: () => unknown, errorClass: abstract new (...args: never[]) => Error): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(errorClass);
    return (e as Error).message;
  }
  throw new Error(`expected a ${errorClass.name}`);
}

/** The code and message of the NibbleError a call throws; fails the test if it throws nothing or something else. */
export function thrownDiagnostic(f: () => unknown): { code: DiagnosticCode; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NibbleError);
    return { code: (e as NibbleError).code, message: (e as NibbleError).message };
  }
  throw new Error('expected a NibbleError');
}
