import { assertEquals } from "../../assert.ts";
import {
  CHUNK,
  ChunkedWriter,
  formatBytes,
  type Io,
  Output,
  type Stream,
  writeJson,
} from "../../../commands/toolkit/output.ts";

function collector(): Stream & { writes: string[] } {
  const writes: string[] = [];
  return { isTerminal: false, writes, write: (text) => void writes.push(text) };
}

/** JSON.stringify as Output.data did it in one piece: the oracle for the streamed writer. */
function oracle(value: unknown): string {
  return JSON.stringify(value, (_key, v) => typeof v === "bigint" ? Number(v) : v, 2);
}

function streamed(value: unknown): string {
  const stream = collector();
  const out = new ChunkedWriter(stream);
  writeJson(out, value);
  out.flush();
  return stream.writes.join("");
}

Deno.test("writeJson: the same text as JSON.stringify(value, bigints as numbers, 2) for every shape", () => {
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

Deno.test("Output.data: a large document goes out in chunks, never as one string", () => {
  const stream = collector();
  const io: Io = { stdout: stream, stderr: collector(), env: () => undefined };
  const doc = {
    buffers: Array.from({ length: 5000 }, (_, i) => ({ inode: i, name: `buffer ${i}`, size: 4096 * i })),
  };
  new Output(io, { json: true, color: "never", verbose: false }).data(doc);
  assertEquals(stream.writes.join(""), oracle(doc) + "\n");
  const longest = Math.max(...stream.writes.map((w) => w.length));
  assertEquals(
    stream.writes.length > 1 && longest < 2 * CHUNK,
    true,
    `${stream.writes.length} writes, longest ${longest}`,
  );
});

Deno.test("Output.table: aligned columns, right-aligned numbers, the last column unpadded, in chunks", () => {
  const stream = collector();
  const io: Io = { stdout: stream, stderr: collector(), env: () => undefined };
  new Output(io, { json: false, color: "never", verbose: false }).table([
    { header: "N", cell: (r: [number, string]) => String(r[0]), right: true },
    { header: "NAME", cell: (r) => r[1] },
    { header: "LAST", cell: (r) => r[1] },
  ], [[1, "a"], [100, "long name"]]);
  assertEquals(
    stream.writes.join(""),
    "  N  NAME       LAST\n  1  a          a\n100  long name  long name\n",
  );
  const rows = Array.from({ length: 20_000 }, (_, i): [number, string] => [i, "x".repeat(i % 7)]);
  const many = collector();
  new Output({ stdout: many, stderr: collector(), env: () => undefined }, {
    json: false,
    color: "never",
    verbose: false,
  }).table([{ header: "N", cell: (r: [number, string]) => String(r[0]), right: true }, {
    header: "X",
    cell: (r) => r[1],
  }], rows);
  assertEquals(many.writes.join("").split("\n").length, 20_002);
  assertEquals(many.writes.length > 1, true);
});

Deno.test("formatBytes: binary units, at most one decimal, no trailing .0", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1023), "1023 B");
  assertEquals(formatBytes(4096), "4 KiB");
  assertEquals(formatBytes(1536), "1.5 KiB");
  assertEquals(formatBytes(1024 * 1024 + 1), "1 MiB");
  assertEquals(formatBytes(-2048), "-2 KiB");
  assertEquals(formatBytes(1024 ** 5 * 3), "3072 TiB");
});
