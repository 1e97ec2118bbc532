/**
 * The floor of `bench:cold` does the job it stands for: every buffer of the bufinfo, in stat's order (size
 * descending, then inode), with its name, exporter, count, attachments and fences as the real parser reads
 * them. A floor that skipped work would make the goals look further out of reach than they are.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseBufinfo } from "../../ffi/text/bufinfo.ts";
import { formatBytes } from "../../commands/toolkit/units.ts";
import { makeBufinfo } from "./stat_bench.ts";

Deno.test("stat_floor.ts writes every buffer in stat's order with the parser's fields", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dmabuf-floor-" });
  try {
    const text = makeBufinfo(300);
    const file = `${dir}/bufinfo.txt`;
    await Deno.writeTextFile(file, text);
    const script = fileURLToPath(new URL("./stat_floor.ts", import.meta.url));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", script, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const rows = new TextDecoder().decode(stdout).trimEnd().split("\n").map((line) =>
      /^ *(\d+) +(\d+(?:\.\d)? (?:B|KiB|MiB|GiB|TiB)) {2}(\S+) +(.*?) +(\d+) +(\d+) {2}(\d+) (\d+)$/.exec(
        line,
      )
    );
    const expected = parseBufinfo(text).buffers.sort((a, b) => b.size - a.size || a.inode - b.inode);
    assert.equal(rows.length, expected.length);
    rows.forEach((row, i) => {
      const b = expected[i]!;
      assert.ok(row !== null, `row ${i} has the table's shape`);
      assert.deepEqual(row.slice(1), [
        String(b.inode),
        formatBytes(b.size),
        b.exporter,
        b.name ?? "<none>",
        String(b.count),
        String(b.attachments.length),
        String(b.fences.length),
        String(b.fences.filter((f) => !f.signalled).length),
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
