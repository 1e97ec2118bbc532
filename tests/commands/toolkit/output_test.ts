import { assertEquals } from "../../assert.ts";
import { CHUNK } from "../../../commands/toolkit/chunked.ts";
import { Output } from "../../../commands/toolkit/output.ts";
import type { TextIo } from "../../../commands/toolkit/streams.ts";
import { collector, oracle } from "./json_oracle.ts";

Deno.test("Output.data: a large document goes out in chunks, never as one string", () => {
  const stream = collector();
  const io: TextIo = { stdout: stream, stderr: collector(), env: () => undefined };
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
  const io: TextIo = { stdout: stream, stderr: collector(), env: () => undefined };
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
