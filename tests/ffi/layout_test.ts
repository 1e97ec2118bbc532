import { assertEquals, assertThrows } from "../assert.ts";
import { chars, layout, named, padding, s16, s32, u16, u32, u64, unused } from "../../ffi/layout.ts";

const Example = layout("example", { header: "linux/example.h", prefix: "ex_" }, {
  small: u16,
  count: u32,
  length: u64,
  flags: unused(u32),
  label: named("ex_name", chars(5)),
  delta: s16,
});

Deno.test("layout: offsets by C's natural alignment, the size rounded up to the widest member", () => {
  assertEquals(Example.offsets, { small: 0, count: 4, length: 8, label: 20, delta: 26 });
  assertEquals(Example.SIZE, 32);
  assertEquals(
    Example.fields.map((f) => [f.kernel, f.offset, f.size, f.unused]),
    [
      ["ex_small", 0, 2, false],
      ["ex_count", 4, 4, false],
      ["ex_length", 8, 8, false],
      ["ex_flags", 16, 4, true],
      ["ex_name", 20, 5, false],
      ["ex_delta", 26, 2, false],
    ],
  );
  assertEquals(layout("tail", { header: null }, { a: u64, b: u32 }).SIZE, 16);
  assertEquals(
    layout("bytes", { header: null }, { a: u16, rest: padding(6, 2) }).fields.at(-1)?.kernel,
    null,
  );
});

Deno.test("layout: encode writes the given fields little-endian and zero elsewhere; decode leaves unused ones out", () => {
  const bytes = Example.encode({ count: 0x01020304, length: 5n, label: "abc", delta: -2 });
  assertEquals(bytes.length, 32);
  assertEquals([...bytes.subarray(4, 8)], [4, 3, 2, 1]);
  assertEquals([...bytes.subarray(20, 26)], [0x61, 0x62, 0x63, 0, 0, 0]);
  assertEquals(Example.decode(bytes), { small: 0, count: 0x01020304, length: 5n, label: "abc", delta: -2 });
  const reused = new Uint8Array(32).fill(0xff);
  Example.encodeInto(reused, { small: 1 });
  assertEquals(Example.decode(reused), { small: 1, count: 0, length: 0n, label: "", delta: 0 });
  assertThrows(() => Example.encode({ label: "abcde" }), RangeError, "at most 4 fit");
  assertThrows(
    () => Example.decode(new Uint8Array(31)),
    RangeError,
    "Cannot decode struct example: 31 bytes, need 32",
  );
});

Deno.test("layout: arrays of a struct, as C lays them out", () => {
  const Pair = layout("pair", { header: null }, { fd: s32, events: s16, revents: s16 });
  const bytes = Pair.encodeArray([{ fd: 1 }, { fd: 2, events: 4 }]);
  assertEquals(bytes.length, 16);
  assertEquals(Pair.decodeArray(bytes), [{ fd: 1, events: 0, revents: 0 }, { fd: 2, events: 4, revents: 0 }]);
});
