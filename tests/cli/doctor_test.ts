/**
 * `dmabuf doctor` on whatever machine runs the host tier (usually one without dma-heaps): the report's shape,
 * exit status 1 exactly when a check failed, every check id documented in the README, and usage errors
 * (exit 2, one line).
 */
import { assertEquals, assertIncludes, assertMatch, assertOk } from "../assert.ts";
import { runCli } from "../run_cli.ts";
import type { DoctorResult } from "../../commands/doctor/runner.ts";

const README = Deno.readTextFileSync(new URL("../../README.md", import.meta.url));

type Check = DoctorResult;

Deno.test("doctor --json: kernel and checks with id/status/summary/detail/fix; exit 1 exactly when one failed", async () => {
  const { code, stdout, stderr } = await runCli(["doctor", "--json"]);
  const doc = JSON.parse(stdout) as { kernel: string; checks: Check[]; counts: Record<string, number> };
  assertEquals(doc.kernel, Deno.osRelease());
  const failed = doc.checks.filter((c) => c.status === "fail");
  assertEquals(code, failed.length > 0 ? 1 : 0, stderr);
  assertEquals(stderr, "");
  assertEquals(doc.counts.fail, failed.length);
  for (const check of doc.checks) {
    assertOk(["ok", "warn", "fail", "skip"].includes(check.status), check.id);
    assertOk(check.summary.length > 0, check.id);
    // Every verdict that is not ok says what to do.
    assertEquals(check.fix === null, check.status === "ok", check.id);
  }
  assertEquals(new Set(doc.checks.map((c) => c.id)).size, doc.checks.length);
});

Deno.test("doctor: every check id the battery can report is in the README's table of ids", async () => {
  const { stdout } = await runCli(["doctor", "--json", "--heap", "nosuch"]);
  const ids = (JSON.parse(stdout) as { checks: Check[] }).checks.map((c) => c.id);
  assertOk(ids.includes("access.nosuch") && ids.includes("alloc.nosuch"));
  for (const id of ids) {
    const documented = id.replace(/^(access|alloc)\..*$/, "$1.<heap>");
    assertOk(README.includes(`| \`${documented}\``), `${id} is not in the README's table of check ids`);
  }
});

Deno.test("doctor --heap nosuch: the access check fails listing what exists, exit 1", async () => {
  const { code, stdout } = await runCli(["doctor", "--heap", "nosuch", "--color", "never"]);
  assertEquals(code, 1);
  assertMatch(stdout, /^dmabuf doctor: Linux \S+ \S+, \d+ KiB pages, uid \d+/);
  assertMatch(
    stdout,
    /\n {2}fail {2}access\.nosuch +no heap "nosuch": \/dev\/dma_heap\/nosuch does not exist\n/,
  );
  assertMatch(stdout, /\n\d+ ok, \d+ warn, \d+ fail, \d+ skip\n$/);
});

for (
  const [args, message] of [
    [["--size", "0"], 'dmabuf: --size: Cannot parse size "0": sizes must be greater than zero'],
    [["--heap", "../system"], 'dmabuf: Invalid heap name "../system": contains /'],
    [["extra"], "dmabuf: "],
  ] as const
) {
  Deno.test(`doctor ${args.join(" ")}: a usage error, exit 2, one line`, async () => {
    const { code, stdout, stderr } = await runCli(["doctor", ...args]);
    assertEquals(code, 2);
    assertEquals(stdout, "");
    assertEquals(stderr.trimEnd().split("\n").length, 1, stderr);
    assertIncludes(stderr, message);
  });
}

Deno.test("doctor --help: the flags and the exit statuses", async () => {
  const { code, stdout } = await runCli(["doctor", "--help"]);
  assertEquals(code, 0);
  assertIncludes(stdout, "--heap");
  assertIncludes(stdout, "--size");
  assertIncludes(
    stdout,
    "Exit status: 0 when no check failed (warn and skip allowed), 1 when one failed, 2 on a usage error.",
  );
});
