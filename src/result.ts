/**
 * Why input was refused: a code a caller can branch on or answer with, and a message for people.
 * The one failure shape of every function that parses, verifies or reads input; such a function
 * returns a `Result` and never throws for bad input (an exception is a bug or an outage).
 */
export interface Failure<Code extends string = string> {
  readonly ok: false;
  readonly code: Code;
  readonly message: string;
}

export type Result<T, F extends Failure = Failure> = { readonly ok: true; readonly value: T } | F;

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<Code extends string>(code: Code, message: string): Failure<Code> {
  return { ok: false, code, message };
}
