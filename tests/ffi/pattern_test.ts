import { assertEquals } from "../assert.ts";
import {
  fillPattern,
  findMismatch,
  formatPattern,
  type Pattern,
  patternByte,
  patternBytes,
  repeatedByte,
} from "../../ffi/pattern.ts";

const PATTERNS: Pattern[] = [
  { kind: "zero" },
  { kind: "byte", value: 0xa5 },
  { kind: "counter" },
  { kind: "random", seed: 42 },
];

Deno.test("counter puts the little-endian word index in every 32-bit word", () => {
  assertEquals(
    patternBytes({ kind: "counter" }, 0, 12),
    Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]),
  );
  assertEquals(patternBytes({ kind: "counter" }, 0x400, 4), Uint8Array.from([0, 1, 0, 0]));
});

Deno.test("byte and zero patterns repeat one byte", () => {
  assertEquals(patternBytes({ kind: "byte", value: 0xa5 }, 3, 3), Uint8Array.from([0xa5, 0xa5, 0xa5]));
  assertEquals(patternBytes({ kind: "zero" }, 7, 2), Uint8Array.from([0, 0]));
});

Deno.test("random:SEED differs between seeds and is the same for the same seed", () => {
  const a = patternBytes({ kind: "random", seed: 1 }, 0, 64);
  const b = patternBytes({ kind: "random", seed: 2 }, 0, 64);
  assertEquals(a, patternBytes({ kind: "random", seed: 1 }, 0, 64));
  assertEquals(a.some((byte, i) => byte !== b[i]), true);
});

for (const pattern of PATTERNS) {
  Deno.test(`${formatPattern(pattern)}: a range filled at any offset equals the same range of the whole`, () => {
    const whole = patternBytes(pattern, 0, 256);
    for (const [offset, length] of [[0, 256], [1, 100], [3, 5], [4, 64], [250, 6], [7, 0]] as const) {
      const part = new Uint8Array(length);
      fillPattern(part, pattern, offset);
      assertEquals(part, whole.slice(offset, offset + length));
      assertEquals(findMismatch(part, pattern, offset), -1);
    }
  });

  Deno.test(`${formatPattern(pattern)}: findMismatch finds the first differing byte in head, words and tail`, () => {
    for (const bad of [0, 1, 2, 5, 64, 129, 130]) {
      const bytes = patternBytes(pattern, 1, 131); // offset 1: an unaligned head and tail
      bytes[bad] = (patternByte(pattern, 1 + bad) + 1) & 0xff;
      if (bad + 3 < bytes.length) bytes[bad + 3] = (bytes[bad + 3]! + 1) & 0xff;
      assertEquals(findMismatch(bytes, pattern, 1), bad);
    }
  });
}

Deno.test("findMismatch works on a view whose start is not 4-byte aligned in memory", () => {
  const backing = new Uint8Array(70);
  const view = backing.subarray(2, 66);
  fillPattern(view, { kind: "counter" }, 0);
  assertEquals(findMismatch(view, { kind: "counter" }, 0), -1);
  view[40] = 0xff;
  assertEquals(findMismatch(view, { kind: "counter" }, 0), 40);
});

Deno.test("formatPattern spells patterns as the command line does", () => {
  assertEquals(PATTERNS.map(formatPattern), ["zero", "0xa5", "counter", "random:42"]);
});

Deno.test("repeatedByte: the byte of zero and byte patterns, null for counter and random", () => {
  assertEquals(repeatedByte({ kind: "zero" }), 0);
  assertEquals(repeatedByte({ kind: "byte", value: 0xa5 }), 0xa5);
  assertEquals(repeatedByte({ kind: "counter" }), null);
  assertEquals(repeatedByte({ kind: "random", seed: 1 }), null);
});
