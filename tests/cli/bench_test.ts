/**
 * `dmabuf bench --format` on any machine, pointed at a device that is not a heap (`--heap-dir /dev --heap
 * null`), so every measurement fails fast: LAVA signals, JSON, and the usage error of `--json` with another
 * format.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { runCli } from "../run_cli.ts";

const NOT_A_HEAP = ["--heap-dir", "/dev", "--heap", "null"];
const BENCH_NOT_A_HEAP = ["bench", ...NOT_A_HEAP, "--no-reference", "--iterations", "3", "--sizes", "4K"];

Deno.test("bench --format lava writes one fail case per measurement that could not run, without the note", async () => {
  const { code, stdout, stderr } = await runCli([...BENCH_NOT_A_HEAP, "--format", "lava"]);
  assertEquals(code, 1);
  const signals = stdout.split("\n").filter((line) => line.startsWith("<LAVA_SIGNAL_"));
  assertEquals(signals[0], "<LAVA_SIGNAL_TESTSET START null>");
  assertEquals(signals.at(-1), "<LAVA_SIGNAL_TESTSET STOP>");
  assertEquals(signals.slice(1, -1).length, 8);
  for (const signal of signals.slice(1, -1)) {
    assertMatch(signal, /^<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=null\.4KiB\.[A-Za-z.0-9-]+ RESULT=fail>$/);
  }
  assertEquals(stderr, "dmabuf: warning: C reference not run: --no-reference\n");
});

Deno.test("bench --format json is --json; --json with another --format is a usage error", async () => {
  const json = await runCli([...BENCH_NOT_A_HEAP, "--format", "json"]);
  assertEquals(json.code, 1);
  assertEquals(JSON.parse(json.stdout).cases[0].heap, "null");
  for (const format of ["human", "lava"]) {
    const { code, stdout, stderr } = await runCli(["bench", "--json", "--format", format]);
    assertEquals([code, stdout, stderr], [
      2,
      "",
      `dmabuf: --json conflicts with --format ${format}: give one of them\n`,
    ]);
  }
});
