import { assertEquals, assertOk, assertThrows } from "../../assert.ts";
import { UsageError } from "../../../commands/toolkit/errors.ts";
import { Glob, MAX_GLOB_LENGTH, parseGlob } from "../../../commands/toolkit/glob.ts";

function matches(glob: string, name: string): boolean {
  return new Glob(glob).matches(name);
}

Deno.test("Glob: *, ? and classes over the whole name, / included, a character at a time", () => {
  const cases: [string, string, boolean][] = [
    ["cam*", "camera", true],
    ["cam*", "webcam", false],
    ["*cam*", "webcam-1", true],
    ["*", "", true],
    ["?", "", false],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a/b*", "a/b/c", true],
    ["*.*", "a.b.c", true],
    ["**x", "ax", true],
    ["a*b*c", "abc", true],
    ["a*b*c", "acb", false],
    ["[abc]x", "bx", true],
    ["[a-c]x", "dx", false],
    ["[!a-c]x", "dx", true],
    ["[^a-c]x", "ax", false],
    ["[]]", "]", true],
    ["[!]]", "]", false],
    ["[a-]", "-", true],
    ["[[]", "[", true],
    ["\\*", "\\x", true],
    ["?", "é", true],
    ["??", "😀", false],
    ["?", "😀", true],
    ["[α-ω]", "λ", true],
    ["<none>", "<none>", true],
  ];
  for (const [glob, name, expected] of cases) {
    assertEquals(matches(glob, name), expected, `${glob} ~ ${name}`);
  }
});

Deno.test("Glob: *a*a*...*b against 31 a's and longer names takes microseconds, not exponential time", () => {
  const glob = new Glob(`${"*a".repeat(16)}*b`);
  const start = performance.now();
  for (let i = 0; i < 100; i++) {
    assertEquals(glob.matches("a".repeat(31)), false);
    assertEquals(glob.matches("a".repeat(200)), false);
  }
  assertEquals(glob.matches(`${"a".repeat(40)}b`), true);
  const ms = performance.now() - start;
  assertOk(ms < 200, `200 matches took ${ms.toFixed(1)} ms`);
});

Deno.test("Glob: an unclosed or reversed class and an overlong pattern are usage errors that say why", () => {
  assertThrows(() => new Glob("["), UsageError, 'Invalid name pattern "[": [ without a closing ]');
  assertThrows(() => new Glob("cam[0-9"), UsageError, "[ without a closing ]");
  assertThrows(() => new Glob("[z-a]"), UsageError, 'Invalid name pattern "[z-a]": range out of order (z-a)');
  const long = assertThrows(() => new Glob("a".repeat(130_000)), UsageError, "name pattern too long");
  assertOk(long.message.length < 200, long.message);
  new Glob("?".repeat(MAX_GLOB_LENGTH));
  assertThrows(() => parseGlob("?".repeat(MAX_GLOB_LENGTH + 1)), UsageError, "name pattern too long");
  assertEquals(parseGlob("cam*"), "cam*");
});
