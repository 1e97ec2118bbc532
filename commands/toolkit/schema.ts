/**
 * Schemas of JSON documents the tool writes and reads back (a saved `stat --json`): each schema checks a
 * parsed value and returns it typed, or says which field is wrong and what it must be, by its path
 * (`buffers[0].size must be a non-negative integer (it is -5)`). The type a schema checks for is
 * {@link Infer}red from it, so the writer's types and the reader's checks are one declaration.
 *
 * A field missing from an object is checked as `undefined`: {@link nullable} fields take it as null (a
 * hand-written document may leave them out), every other schema refuses it. Fields the schema does not name
 * are ignored (a `--procs` document has more).
 * @module
 */

/** A wrong field of a document: its path (`buffers[0].size`) and, as the message, what it must be. */
export class SchemaError extends Error {
  override name = "SchemaError";

  /** Makes the error for the field at `path`. */
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** Checks one JSON value. */
export interface Schema<T> {
  /** What a valid value is, for messages: `a non-negative integer`. */
  readonly expected: string;
  /** `value` as a `T`. @throws {SchemaError} naming `path` when it is not one */
  check(value: unknown, path: string): T;
}

/** The type a schema checks for. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A short description of a value that was not what a schema wanted. */
function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") {
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  }
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return value === null ? "null" : "an object";
  return `${typeof value} ${String(value)}`;
}

function fail(schema: { expected: string }, value: unknown, path: string): never {
  const it = value === undefined ? "it is missing" : `it is ${describe(value)}`;
  throw new SchemaError(path, `${path} must be ${schema.expected} (${it})`);
}

/** A schema of values `test` accepts. */
function scalar<T>(expected: string, test: (value: unknown) => value is T): Schema<T> {
  const schema: Schema<T> = {
    expected,
    check: (value, path) => test(value) ? value : fail(schema, value, path),
  };
  return schema;
}

/** A whole number from 0 to 2^53 - 1 (JSON's `1e400` is Infinity, `7.5` and `-5` are refused). */
export const nonNegativeInteger: Schema<number> = scalar(
  "a non-negative integer",
  (value): value is number => Number.isSafeInteger(value) && (value as number) >= 0,
);

/**
 * A whole number from 0 to 2^64 - 1, exact: a Number up to 2^53 - 1, a BigInt beyond (a u64 such as a fence's
 * seqno; {@link parseExactJson} reads such numbers as BigInts).
 */
export const u64: Schema<number | bigint> = scalar(
  "a non-negative integer below 2^64",
  (value): value is number | bigint =>
    (Number.isSafeInteger(value) && (value as number) >= 0) ||
    (typeof value === "bigint" && value >= 0n && value < 2n ** 64n),
);

/**
 * `JSON.parse`, but an integer that a Number cannot hold exactly comes back as a BigInt of its digits (through
 * the reviver's source text, ES2025: a plain parse would round 18446744073709551615 to 18446744073709552000).
 * @throws {SyntaxError} as JSON.parse does
 */
export function parseExactJson(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) => {
    if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
    const source = context?.source;
    return source !== undefined && /^-?\d+$/.test(source) ? BigInt(source) : value;
  });
}

/** Any string. */
export const string: Schema<string> = scalar(
  "a string",
  (value): value is string => typeof value === "string",
);

/** `true` or `false`. */
export const boolean: Schema<boolean> = scalar(
  "true or false",
  (value): value is boolean => typeof value === "boolean",
);

/** `schema`'s values, or null (a missing field counts as null). */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  const outer: Schema<T | null> = {
    expected: `${schema.expected} or null`,
    check(value, path) {
      if (value === null || value === undefined) return null;
      try {
        return schema.check(value, path);
      } catch (error) {
        // The value itself is wrong (not a field inside it): say that null would do too.
        if (error instanceof SchemaError && error.path === path) fail(outer, value, path);
        throw error;
      }
    },
  };
  return outer;
}

/** An array of `items`; each checked at `path[i]`. */
export function array<T>(items: Schema<T>): Schema<T[]> {
  const schema: Schema<T[]> = {
    expected: "an array",
    check(value, path) {
      if (!Array.isArray(value)) fail(schema, value, path);
      return value.map((item, i) => items.check(item, `${path}[${i}]`));
    },
  };
  return schema;
}

/** The fields of an object schema. */
export type Fields = Record<string, Schema<unknown>>;

/** An object with `fields` (others ignored), each checked at `path.name`; its value has exactly `fields`. */
export function object<F extends Fields>(fields: F): Schema<{ [K in keyof F]: Infer<F[K]> }> {
  const names = Object.keys(fields);
  const schema: Schema<{ [K in keyof F]: Infer<F[K]> }> = {
    expected: "an object",
    check(value, path) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) fail(schema, value, path);
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const name of names) {
        out[name] = fields[name]!.check(record[name], path === "" ? name : `${path}.${name}`);
      }
      return out as { [K in keyof F]: Infer<F[K]> };
    },
  };
  return schema;
}
