import { assertEquals } from "../../assert.ts";
import { ChunkedWriter } from "../../../commands/toolkit/chunked.ts";
import { writeJson } from "../../../commands/toolkit/json_writer.ts";
import { collector, oracle } from "./json_oracle.ts";

function streamed(value: unknown): string {
  const stream = collector();
  const out = new ChunkedWriter(stream);
  writeJson(out, value);
  out.flush();
  return stream.writes.join("");
}

Deno.test("writeJson: the same text as JSON.stringify(value, bigints as exact numbers, 2) for every shape", () => {
  const cases: unknown[] = [
    null,
    0,
    'text with \n newline and "quotes"',
    [],
    {},
    [[], {}, [1, [2, [3]]], { a: { b: { c: [] } } }],
    { a: undefined, b: () => 1, c: Symbol("s"), d: 1n, e: [undefined, () => 1, 2n], f: new Date(0) },
    { "2": "integer-like keys first", b: 1, "1": 0, nested: { list: [{ x: "a\nb" }, null, "s"] } },
    Object.assign(Object.create(null), { bare: [1, 2, 3] }),
    {
      buffers: Array.from({ length: 50 }, (_, i) => ({ inode: i, name: i % 2 ? null : `b${i}`, fences: [] })),
    },
    { withToJSON: { toJSON: () => ({ replaced: [1, 2] }) } },
    // More members than one batch, with what an array turns into null and a BigInt in one batch only.
    {
      many: Array.from(
        { length: 300 },
        (_, i) => i % 7 === 0 ? undefined : i === 200 ? 5n : { i, s: "x\ny" },
      ),
    },
    Array.from({ length: 129 }, (_, i) => [i, { deep: [i] }]),
  ];
  for (const value of cases) assertEquals(streamed(value), oracle(value));
});

Deno.test("writeJson: a BigInt beyond 2^53 keeps every digit (a u64 fence seqno)", () => {
  const text = streamed({ fences: [{ context: 18446744073709551615n, seq: 9007199254740993n }] });
  assertEquals(
    text,
    '{\n  "fences": [\n    {\n      "context": 18446744073709551615,\n      "seq": 9007199254740993\n    }\n  ]\n}',
  );
});
