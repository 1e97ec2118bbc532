/**
 * JSON documents streamed: `JSON.stringify(value, bigints as exact numbers, 2)` written member by member through a
 * {@link ChunkedWriter}, so a large document is never one string.
 * @module
 */

import type { ChunkedWriter } from "./chunked.ts";

/**
 * `JSON.rawJSON` and `JSON.isRawJSON` (ES2025, in Deno's V8; not in TypeScript's lib yet): a value whose JSON
 * text is given, so a BigInt is written with all its digits.
 */
const Raw = JSON as unknown as { rawJSON(text: string): object; isRawJSON(value: unknown): boolean };

/**
 * `JSON.stringify`'s replacer for every document: BigInts (ioctl fields, u64 fence contexts and seqnos) become
 * JSON numbers with every digit, exact even beyond 2^53 (a reader that parses numbers into doubles rounds
 * them; the text does not).
 */
function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? Raw.rawJSON(value.toString()) : value;
}

/**
 * `JSON.stringify(value, jsonValue, 2)`, but without calling the replacer for every member of a value that
 * has no BigInt: JSON.stringify refuses a BigInt with a TypeError, and only then is the replacer needed.
 */
function stringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, null, 2);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, jsonValue, 2);
  }
}

/** Whether `value` is an array or a plain object that {@link writeJson} may take apart. */
function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (typeof value !== "object" || value === null || Raw.isRawJSON(value)) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/** How deep {@link writeJson} takes containers apart; below that, values are stringified whole. */
const SPLIT_DEPTH = 2;

/** How many members of an array {@link writeJson} stringifies in one call (a few tens of KiB of text). */
const JSON_BATCH = 128;

/**
 * Writes `value` as `JSON.stringify(value, bigints as exact numbers, 2)` would, to `out`, in pieces: the top levels
 * (a document, its arrays) are written member by member, each member stringified on its own and indented to
 * its place (JSON text has no raw newline inside a string, so prefixing every newline is exact). Tested
 * against JSON.stringify.
 */
export function writeJson(out: ChunkedWriter, value: unknown, indent = "", depth = 0): void {
  const v = jsonValue("", value);
  if (depth >= SPLIT_DEPTH || !isContainer(v)) {
    const text = stringify(v);
    // Where JSON.stringify leaves a value out of an object it is handled by the caller; in an array, null.
    const whole = text === undefined ? "null" : text;
    out.write(indent === "" ? whole : whole.replaceAll("\n", `\n${indent}`));
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.write("[]");
      return;
    }
    out.write("[");
    if (depth + 1 >= SPLIT_DEPTH) {
      // Members stringified whole: a batch at a time in one native call. JSON.stringify(batch, null, 2) is
      // "[\n" + the members at two spaces + "\n]", so the middle, moved to this array's indent, is exact.
      for (let start = 0; start < v.length; start += JSON_BATCH) {
        const text = stringify(v.slice(start, start + JSON_BATCH))!;
        const body = text.slice(2, -2);
        out.write(start === 0 ? "\n" : ",\n");
        out.write(indent === "" ? body : indent + body.replaceAll("\n", `\n${indent}`));
      }
    } else {
      for (let i = 0; i < v.length; i++) {
        out.write(i === 0 ? `\n${inner}` : `,\n${inner}`);
        writeJson(out, v[i], inner, depth + 1);
      }
    }
    out.write(`\n${indent}]`);
    return;
  }
  let first = true;
  for (const name of Object.keys(v)) {
    const member = v[name];
    // What JSON.stringify leaves out of an object (a BigInt is none of these: it becomes an exact number).
    if (member === undefined || typeof member === "function" || typeof member === "symbol") continue;
    out.write(`${first ? "{" : ","}\n${inner}${JSON.stringify(name)}: `);
    first = false;
    writeJson(out, member, inner, depth + 1);
  }
  out.write(first ? "{}" : `\n${indent}}`);
}
