/**
 * The assertions tests use: node's strict assert under the names tests read well with.
 * @module
 */

import assert from "node:assert/strict";

/** Deep strict equality. */
export const assertEquals: <T>(actual: unknown, expected: T, message?: string) => asserts actual is T =
  assert.deepStrictEqual;

/** Asserts `fn` throws, optionally an instance of `type`; returns the error. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  type?: abstract new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    if (type !== undefined) assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    if (includes !== undefined) {
      assert.ok(
        String((error as Error).message).includes(includes),
        `"${(error as Error).message}" lacks "${includes}"`,
      );
    }
    return error as E;
  }
  throw new assert.AssertionError({ message: "expected the function to throw" });
}

/** Asserts `text` contains `part`. */
export function assertIncludes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(text)} to include ${JSON.stringify(part)}`);
}

/** Asserts a condition. */
export const assertOk: (value: unknown, message?: string) => asserts value = assert.ok;

/** Asserts `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp): void {
  assert.match(text, pattern);
}
