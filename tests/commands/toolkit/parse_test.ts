import { assertEquals, assertThrows } from "../../assert.ts";
import { UsageError } from "../../../commands/toolkit/errors.ts";
import {
  parseCount,
  parseDuration,
  parseFdNumber,
  parseInterval,
  parseOffset,
  parsePath,
  parsePattern,
  parsePid,
  parseSize,
} from "../../../commands/toolkit/parse.ts";

Deno.test("parseSize accepts bytes, K/M/G with and without iB, hex and decimals", () => {
  const cases: [string, number][] = [
    ["4096", 4096],
    ["4k", 4096],
    ["4K", 4096],
    ["4KiB", 4096],
    ["4kb", 4096],
    ["1M", 1 << 20],
    ["1MiB", 1 << 20],
    ["1G", 1 << 30],
    ["1.5M", 1.5 * (1 << 20)],
    ["0x1000", 4096],
    ["0X1000", 4096],
    ["16 MiB", 16 << 20],
    ["1", 1],
  ];
  for (const [input, bytes] of cases) assertEquals(parseSize(input), bytes, input);
});

Deno.test("parseSize rejects zero, negative, unknown units and garbage, naming the value", () => {
  for (const input of ["0", "0x0", "-1", "-4K", "4Q", "", "K", "1.5", "0.1K", "1e3", "4 K B", "0x", "nan"]) {
    const error = assertThrows(() => parseSize(input), UsageError, `"${input}"`);
    assertEquals(error.exitCode, 2);
  }
  assertThrows(() => parseSize("4Q"), UsageError, 'unknown unit "Q"');
  assertThrows(() => parseSize("0"), UsageError, "greater than zero");
  assertThrows(() => parseSize("-1"), UsageError, "positive");
});

Deno.test("parseSize and parseOffset: beyond 2^53 - 1 bytes is too large, not 'not a whole number'", () => {
  for (const input of ["9999999999999999999T", "8192T", "0x20000000000000", "9".repeat(400)]) {
    assertThrows(() => parseSize(input), UsageError, "too large (at most 9007199254740991 bytes)");
    assertThrows(() => parseOffset(input), UsageError, "too large (at most 9007199254740991 bytes)");
  }
  assertEquals(parseSize("0x1fffffffffffff"), Number.MAX_SAFE_INTEGER);
  assertThrows(() => parseSize("1.5"), UsageError, "not a whole number of bytes");
});

Deno.test("parseOffset allows zero", () => {
  assertEquals(parseOffset("0"), 0);
  assertEquals(parseOffset("0x0"), 0);
  assertEquals(parseOffset("4K"), 4096);
  assertThrows(() => parseOffset("-4"), UsageError, '"-4"');
});

Deno.test("parseDuration: ms, s, m, h and bare seconds", () => {
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("2s"), 2000);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("1m"), 60_000);
  assertEquals(parseDuration("1h"), 3_600_000);
  assertEquals(parseDuration("3"), 3000);
  assertEquals(parseDuration("0s"), 0);
  for (const input of ["", "-1s", "2 days", "1d", "s", "1e9"]) {
    assertThrows(() => parseDuration(input), UsageError, `"${input}"`);
  }
});

Deno.test("parseFdNumber, parsePid and parseCount take plain integers in range", () => {
  assertEquals(parseFdNumber("0"), 0);
  assertEquals(parseFdNumber("3"), 3);
  assertEquals(parsePid("1"), 1);
  assertEquals(parseCount("10"), 10);
  assertThrows(() => parseFdNumber("-1"), UsageError, '"-1"');
  assertThrows(() => parseFdNumber("3.0"), UsageError);
  assertThrows(() => parseFdNumber("99999999999"), UsageError, "too large");
  assertThrows(() => parsePid("0"), UsageError, '"0"');
  assertThrows(() => parseCount("0"), UsageError, "at least 1");
});

Deno.test("parsePattern: zero, bytes, counter, random:SEED", () => {
  assertEquals(parsePattern("zero"), { kind: "zero" });
  assertEquals(parsePattern("0xa5"), { kind: "byte", value: 0xa5 });
  assertEquals(parsePattern("0XFF"), { kind: "byte", value: 0xff });
  assertEquals(parsePattern("165"), { kind: "byte", value: 165 });
  assertEquals(parsePattern("0x00"), { kind: "zero" });
  assertEquals(parsePattern("counter"), { kind: "counter" });
  assertEquals(parsePattern("random:42"), { kind: "random", seed: 42 });
  for (const input of ["0x100", "256", "random:", "random:-1", "random:x", "ones", "", "random:4294967296"]) {
    assertThrows(() => parsePattern(input), UsageError, `"${input}"`);
  }
});

Deno.test("parseInterval: the one rule for lengths and intervals (trace --duration, stat --watch): more than 0", () => {
  assertEquals(parseInterval("100ms"), 100);
  for (const input of ["0", "0ms", "0.0001s"]) {
    assertThrows(
      () => parseInterval(input),
      UsageError,
      `Cannot parse duration "${input}": must be more than 0`,
    );
  }
  assertEquals(parseDuration("0"), 0);
});

Deno.test("parsePath: not empty; relative only while the working directory exists (DMABUF_CWD_GONE)", () => {
  assertThrows(() => parsePath(""), UsageError, "Expected a path, got an empty string");
  assertEquals(parsePath("report.xml"), "report.xml");
  Deno.env.set("DMABUF_CWD_GONE", "1");
  try {
    assertThrows(
      () => parsePath("report.xml"),
      UsageError,
      '"report.xml" is relative, and the working directory',
    );
    assertEquals(parsePath("/tmp/report.xml"), "/tmp/report.xml");
    assertEquals(parsePath("-"), "-");
  } finally {
    Deno.env.delete("DMABUF_CWD_GONE");
  }
});
