/**
 * Names that lab tools accept for tests: LAVA test case ids and test set names (letters, digits, `_`, `-`,
 * `.`; the server drops a set whose name URL-quoting would change), and KTAP test names (no `#`, no
 * spaces, so KernelCI's test paths stay one word per level); the one label of a size in test case ids; free
 * text kept to lines.
 * @module
 */

/** One character outside the safe set (per code point, so an emoji becomes one `_`, not two). */
const UNSAFE = /[^A-Za-z0-9_.-]/gu;

/** `text` with every character outside letters, digits, `_ - .` mapped to `_`; `_` when empty. */
export function safeName(text: string): string {
  const mapped = text.replace(UNSAFE, "_");
  return mapped === "" ? "_" : mapped;
}

/**
 * Hands out names unique within one scope (a whole LAVA run, one KTAP group): a name given before gets
 * `-2`, `-3`, ... in the order asked, so the same report always maps to the same names.
 */
export class UniqueNames {
  #used = new Set<string>();

  /** `name`, or `name-N` with the smallest N ≥ 2 not given yet. */
  take(name: string): string {
    let candidate = name;
    for (let n = 2; this.#used.has(candidate); n++) candidate = `${name}-${n}`;
    this.#used.add(candidate);
    return candidate;
  }
}

/** The part of a check id after its group, e.g. `alloc-4KiB` of `system/alloc-4KiB`. */
export function checkPart(id: string, group: string): string {
  return id.startsWith(`${group}/`) ? id.slice(group.length + 1) : id;
}

const KiB = 1024;
const SIZE_UNITS = [["GiB", KiB ** 3], ["MiB", KiB ** 2], ["KiB", KiB]] as const;

/**
 * A size as a test case id part: `4KiB`, `16MiB`, or bytes (`1000B`) when no binary unit divides it. Exact,
 * so two sizes never share a label (`1.5 MiB` is `1536KiB`). The one label smoke's check ids and bench's LAVA
 * case ids use.
 */
export function sizeLabel(bytes: number): string {
  for (const [unit, factor] of SIZE_UNITS) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/** A control character as people can read it in a line: a tab as a space, the others as `\xNN`. */
function visible(c: string): string {
  return c === "\t" ? " " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** Free text as lines that stay lines: split at newlines, other control characters made {@link visible}. */
export function textLines(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(CONTROL, visible));
}

/** Free text as one line: newlines as `\n`, other control characters made {@link visible}. */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => c === "\n" ? "\\n" : visible(c));
}
