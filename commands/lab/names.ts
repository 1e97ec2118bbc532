/**
 * Names that lab tools accept for tests: LAVA test case ids and test set names (letters, digits, `_`, `-`,
 * `.`; the server drops a set whose name URL-quoting would change), and KTAP test names (no `#`, no
 * spaces, so KernelCI's test paths stay one word per level).
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

/**
 * Free text as lines that stay lines: split at newlines, other control characters as visible `\xNN`
 * escapes, tabs as spaces.
 */
export function textLines(text: string): string[] {
  return text.split(/\r?\n/).map((line) =>
    // deno-lint-ignore no-control-regex
    line.replace(/[\x00-\x1f\x7f]/g, (c) =>
      c === "\t" ? " " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
  );
}
