/**
 * Globs of buffer names (`stat --name`): `*`, `?` and `[...]` (`[!...]` or `[^...]` negates, `a-z` ranges, a
 * `]` first in the class is a member), matched against the whole name, `/` included (a buffer name is not a
 * path), a character at a time (code points, so `?` is one character whatever its UTF-8 length). Every other
 * character, `\` included, stands for itself.
 *
 * No regular expression is made: the matcher walks the name once, going back only to just after the last
 * `*` when a later part fails, so its time is at most the name's length times the pattern's (a pattern like
 * `*a*a*a*...*b`, exponential for a backtracking regex engine, takes microseconds). A glob is user input:
 * one the matcher cannot take (an unclosed or reversed class, one longer than {@link MAX_GLOB_LENGTH}) is a
 * usage error that says why, found when the command line is parsed.
 * @module
 */

import { shown, UsageError } from "./errors.ts";

/**
 * The longest glob taken, in characters. Names are at most 31 bytes (`DMA_BUF_NAME_LEN` - 1); this leaves room
 * for a class per character and then some.
 */
export const MAX_GLOB_LENGTH = 256;

/** One part of a compiled glob. */
type Part =
  | { readonly kind: "literal"; readonly char: string }
  | { readonly kind: "any" }
  | { readonly kind: "star" }
  | {
    readonly kind: "class";
    readonly negated: boolean;
    readonly ranges: readonly (readonly [number, number])[];
  };

function invalid(glob: string, why: string): UsageError {
  return new UsageError(`Invalid name pattern "${shown(glob)}": ${why}`);
}

/** The class starting at `chars[open]` (a `[`) and the index after its `]`. @throws {UsageError} */
function parseClass(glob: string, chars: readonly string[], open: number): [Part, number] {
  let i = open + 1;
  const negated = chars[i] === "!" || chars[i] === "^";
  if (negated) i++;
  const ranges: [number, number][] = [];
  let first = true;
  for (;;) {
    const c = chars[i];
    if (c === undefined) throw invalid(glob, "[ without a closing ] (a literal [ is [[])");
    if (c === "]" && !first) return [{ kind: "class", negated, ranges }, i + 1];
    first = false;
    const from = c.codePointAt(0)!;
    if (chars[i + 1] === "-" && chars[i + 2] !== undefined && chars[i + 2] !== "]") {
      const to = chars[i + 2]!.codePointAt(0)!;
      if (to < from) throw invalid(glob, `range out of order (${c}-${chars[i + 2]})`);
      ranges.push([from, to]);
      i += 3;
    } else {
      ranges.push([from, from]);
      i += 1;
    }
  }
}

/** A compiled glob. */
export class Glob {
  readonly #parts: readonly Part[];
  /** The glob as given. */
  readonly source: string;

  /** Compiles `glob`. @throws {UsageError} too long, an unclosed class, a reversed range */
  constructor(glob: string) {
    if (glob.length > MAX_GLOB_LENGTH) {
      throw new UsageError(
        `Invalid name pattern: name pattern too long (${glob.length} characters, at most ${MAX_GLOB_LENGTH}; ` +
          `buffer names are at most 31 bytes)`,
      );
    }
    const chars = Array.from(glob);
    const parts: Part[] = [];
    for (let i = 0; i < chars.length;) {
      const c = chars[i]!;
      if (c === "*") {
        // Runs of * are one: they match the same, and fewer parts make fewer steps back.
        if (parts.at(-1)?.kind !== "star") parts.push({ kind: "star" });
        i++;
      } else if (c === "?") {
        parts.push({ kind: "any" });
        i++;
      } else if (c === "[") {
        const [part, next] = parseClass(glob, chars, i);
        parts.push(part);
        i = next;
      } else {
        parts.push({ kind: "literal", char: c });
        i++;
      }
    }
    this.#parts = parts;
    this.source = glob;
  }

  /** Whether `name` matches the whole glob. */
  matches(name: string): boolean {
    const chars = Array.from(name);
    const parts = this.#parts;
    let p = 0;
    let n = 0;
    // Where to go back to: the part after the last star, and the name position that star now ends at.
    let star = -1;
    let starEnd = 0;
    while (n < chars.length) {
      const part = parts[p];
      if (part?.kind === "star") {
        star = ++p;
        starEnd = n;
      } else if (part !== undefined && matchesOne(part, chars[n]!)) {
        p++;
        n++;
      } else if (star >= 0) {
        p = star;
        n = ++starEnd;
      } else {
        return false;
      }
    }
    while (parts[p]?.kind === "star") p++;
    return p === parts.length;
  }
}

function matchesOne(part: Part, char: string): boolean {
  switch (part.kind) {
    case "literal":
      return part.char === char;
    case "any":
      return true;
    case "star":
      return false;
    case "class": {
      const code = char.codePointAt(0)!;
      const member = part.ranges.some(([from, to]) => code >= from && code <= to);
      return member !== part.negated;
    }
  }
}

/** Parses `--name GLOB`: the glob itself, once it is known to compile. @throws {UsageError} */
export function parseGlob(input: string): string {
  new Glob(input);
  return input;
}
