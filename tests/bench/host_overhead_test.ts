/**
 * The host overhead benchmark runs end to end with tiny counts (numbers are for the report, not asserted).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { pageSize } from "../../ffi/page_size.ts";

Deno.test("deno task bench:host measures every operation in Deno and in C", async () => {
  const script = fileURLToPath(new URL("./host_overhead.ts", import.meta.url));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--iterations", "2", "--sizes", `${pageSize()},65536`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.match(out, /^\| MEASUREMENT \| DENO \| C \| C 1-THREAD \| DENO\/C \| GOAL \|$/m);
  for (
    const label of [
      "geteuid (FFI floor)",
      "ioctl FIONREAD, checked",
      "mmap+munmap 4 KiB",
      "mmap+fill+munmap 4 KiB",
      "mmap+verify+munmap 64 KiB",
    ]
  ) {
    assert.match(
      out,
      new RegExp(`^\\| ${label.replaceAll("+", "\\+").replace(/[()]/g, "\\$&")} \\| [0-9.]+ `, "m"),
    );
  }
});

Deno.test("bench:host refuses sizes that are not whole pages with one line and exit 1", async () => {
  const script = fileURLToPath(new URL("./host_overhead.ts", import.meta.url));
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--sizes", "1000"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 1);
  assert.equal(new TextDecoder().decode(stderr), "host_overhead: --sizes: whole pages only\n");
});
