/**
 * `dmabuf smoke` on any machine, pointed at a device that is not a heap (`--heap-dir /dev --heap null`), so
 * every check runs and the first fails: TAP, KTAP and LAVA on stdout are streamed as the checks finish, and
 * are the same document `--output` writes.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { runCli, spawnCli } from "../run_cli.ts";
import { prove, tapParser } from "../tap_tools.ts";

const NOT_A_HEAP = ["--heap-dir", "/dev", "--heap", "null"];

/** The TAP text without the timing lines, which differ between two runs. */
function withoutDurations(tap: string): string {
  return tap.split("\n").filter((line) => !line.startsWith("  duration_ms: ")).join("\n");
}

Deno.test("smoke --format tap streams the plan first and one result per check, as --output writes it", async () => {
  const args = ["smoke", "--heap-dir", "/dev", "--heap", "null", "--format", "tap"];
  const streamed = await spawnCli(args);
  assertEquals(streamed.code, 1);
  const plan = /^TAP version 13\n1\.\.(\d+)\n/.exec(streamed.stdout);
  assertMatch(streamed.stdout, /^TAP version 13\n1\.\.\d+\nok 1 - battery: /);
  const tests = streamed.stdout.split("\n").filter((line) => /^(not )?ok \d+ - /.test(line));
  assertEquals(tests.length, Number(plan![1]));
  assertMatch(streamed.stdout, /\nnot ok \d+ - null: .*\n {2}---\n {2}message: ".*ENOTTY/);

  const file = await Deno.makeTempFile({ suffix: ".tap" });
  try {
    const written = await spawnCli([...args, "--output", file]);
    assertEquals(written.code, 1);
    assertEquals(written.stdout, "");
    assertEquals(withoutDurations(Deno.readTextFileSync(file)), withoutDurations(streamed.stdout));
  } finally {
    Deno.removeSync(file);
  }
});

for (const format of ["ktap", "lava"]) {
  Deno.test(`smoke --format ${format} streams on stdout the document --output writes`, async () => {
    const args = ["smoke", ...NOT_A_HEAP, "--format", format];
    const streamed = await runCli(args);
    assertEquals(streamed.code, 1);
    assertMatch(
      streamed.stdout,
      format === "ktap"
        ? /^KTAP version 1\n1\.\.2\n {2}KTAP version 1\n {2}# Subtest: null\n/
        : /^<LAVA_SIGNAL_TESTSET START battery>\n<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=battery\.heaps-present RESULT=pass>\n/,
    );
    const file = await Deno.makeTempFile({ suffix: `.${format}` });
    try {
      const written = await runCli([...args, "--output", file]);
      assertEquals(written.code, 1);
      assertEquals(written.stdout, "");
      assertEquals(Deno.readTextFileSync(file), streamed.stdout);
    } finally {
      Deno.removeSync(file);
    }
  });
}

Deno.test("smoke --json --format ktap is a usage error", async () => {
  const { code, stdout, stderr } = await runCli(["smoke", "--json", "--format", "ktap"]);
  assertEquals([code, stdout, stderr], [
    2,
    "",
    "dmabuf: --json conflicts with --format ktap: give one of them\n",
  ]);
});

Deno.test("smoke --format tap: prove (TAP::Harness) sees the failing checks as failed", async () => {
  const { code, stdout } = await spawnCli([
    "smoke",
    "--heap-dir",
    "/dev",
    "--heap",
    "null",
    "--format",
    "tap",
  ]);
  assertEquals(code, 1);
  const verdict = await prove(stdout);
  assertEquals(verdict.code === 0, false, verdict.output);
  assertMatch(verdict.output, /Result: FAIL/);
  const parsed = await tapParser(stdout);
  assertEquals(parsed.parse_errors, "");
  assertEquals(parsed.tests_run, /^1\.\.(\d+)$/m.exec(stdout)![1]);
  // Each "not ok" line of ours is a failure to TAP::Parser, and nothing else is.
  const ours = [...stdout.matchAll(/^not ok (\d+) /gm)].map((m) => m[1]).join(",");
  assertEquals(parsed.failed, ours);
  assertMatch(ours, /\d/);
});

Deno.test("smoke shows its progress line on a terminal's stderr, but not while it streams a report to stdout", async () => {
  const human = await runCli(["smoke", ...NOT_A_HEAP], { terminal: true, stderrTerminal: true });
  assertMatch(human.stderr, /\[1\/\d+\] battery: /);
  for (const format of ["tap", "ktap", "lava"]) {
    const { stderr } = await runCli(["smoke", ...NOT_A_HEAP, "--format", format], {
      terminal: true,
      stderrTerminal: true,
    });
    assertEquals(/\[\d+\/\d+\]/.test(stderr), false, `${format}: ${JSON.stringify(stderr)}`);
  }
});
