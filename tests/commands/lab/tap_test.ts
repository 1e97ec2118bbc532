/**
 * TAP 13 of a smoke run, checked by tools that do not share the writer's assumptions: Perl's `prove`
 * (TAP::Harness), TAP::Parser and the `yaml` package for the YAML blocks; hostile text kept on one line.
 */
import assert from "node:assert/strict";
import YAML from "yaml";
import { prove, tapParser } from "../../tap_tools.ts";
import { renderTap } from "../../../commands/lab/tap.ts";
import { HOSTILE as REPORT, NASTY } from "./fixtures.ts";

interface TapLine {
  ok: boolean;
  number: number;
  description: string;
  directive: string | null;
}

/** Checks a TAP 13 document line by line; returns the test lines. Throws on anything the spec does not allow. */
function parseTap13(text: string): { plan: number; tests: TapLine[]; yamlBlocks: string[][] } {
  assert.ok(text.endsWith("\n"), "TAP output ends with a newline");
  const lines = text.slice(0, -1).split("\n");
  assert.equal(lines[0], "TAP version 13", "first line is the version");
  const planMatch = /^1\.\.(\d+)(?: # .*)?$/.exec(lines[1] ?? "");
  assert.ok(planMatch, `second line is the plan: ${lines[1]}`);
  const plan = Number(planMatch[1]);
  const tests: TapLine[] = [];
  const yamlBlocks: string[][] = [];
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const test = /^(not ok|ok) (\d+)(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$/.exec(line);
    if (test) {
      // The description may not contain an unescaped '#': it would start a directive.
      const description = test[3] ?? "";
      assert.ok(!/(^|[^\\])#/.test(description), `unescaped # in description: ${line}`);
      tests.push({
        ok: test[1] === "ok",
        number: Number(test[2]),
        description,
        directive: test[4] === undefined ? null : `${test[4]} ${test[5] ?? ""}`.trim(),
      });
      continue;
    }
    if (line === "  ---") {
      assert.ok(tests.length > 0, "a YAML block follows a test line");
      const block: string[] = [];
      for (i++; i < lines.length && lines[i] !== "  ..."; i++) block.push(lines[i]!);
      assert.equal(lines[i], "  ...", "YAML block is closed with '  ...'");
      for (const yaml of block) assert.ok(yaml.startsWith("  "), `YAML indented under the test: ${yaml}`);
      yamlBlocks.push(block);
      continue;
    }
    assert.fail(`line ${i + 1} is not TAP 13: ${JSON.stringify(line)}`);
  }
  return { plan, tests, yamlBlocks };
}

/** A TAP YAML block (its lines, indented two spaces under the test line) read by the `yaml` package. */
function parseYamlBlock(block: string[]): Record<string, unknown> {
  for (const line of block) assert.ok(line.startsWith("  "), `YAML indented under the test: ${line}`);
  const document = YAML.parseDocument(block.map((line) => line.slice(2)).join("\n"), { strict: true });
  assert.deepEqual(document.errors.map((e) => e.message), []);
  return document.toJS() as Record<string, unknown>;
}

Deno.test("prove (TAP::Harness) reads renderTap's document: 6 tests, 2 failed (2 and 5), 1 skipped, no parse errors", async () => {
  const { code, output } = await prove(renderTap(REPORT));
  assert.notEqual(code, 0, output);
  assert.doesNotMatch(output, /Parse errors|unknown|Bad plan/i);
  assert.match(output, /Failed tests?:\s+2, 5\b/);
  assert.match(output, /Failed 2\/6 subtests/);
  assert.match(output, /\(less 1 skipped subtest: 3 okay\)/);
});

Deno.test("TAP::Parser reads renderTap's document: version 13, the plan, which passed, failed and skipped", async () => {
  assert.deepEqual(await tapParser(renderTap(REPORT)), {
    version: "13",
    plan: "1..6",
    tests_run: "6",
    passed: "1,3,4,6",
    failed: "2,5",
    skipped: "3",
    parse_errors: "",
  });
});

Deno.test("prove passes a report without failures", async () => {
  const passing = { ...REPORT, results: REPORT.results.filter((r) => r.status !== "fail") };
  const { code, output } = await prove(renderTap(passing));
  assert.equal(code, 0, output);
  assert.match(output, /All tests successful/);
  assert.match(output, /Result: PASS/);
  assert.doesNotMatch(output, /Parse errors/i);
  assert.equal((await tapParser(renderTap(passing))).skipped, "2");
});

Deno.test("prove reads an empty battery as a skipped plan", async () => {
  const { code, output } = await prove(renderTap({ ...REPORT, results: [] }));
  assert.equal(code, 0, output);
  assert.match(output, /skipped/i);
  assert.doesNotMatch(output, /Parse errors/i);
});

Deno.test("renderTap writes the version line, a plan matching the count, and numbers tests from 1", () => {
  const { plan, tests } = parseTap13(renderTap(REPORT));
  assert.equal(plan, REPORT.results.length);
  assert.deepEqual(tests.map((t) => t.number), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(tests.map((t) => t.ok), [true, false, true, true, false, true]);
  assert.equal(tests[0]!.description, "system: allocate 4 KiB");
});

Deno.test("renderTap marks skips as ok with a # SKIP directive and the reason", () => {
  const { tests } = parseTap13(renderTap(REPORT));
  assert.equal(tests[2]!.ok, true);
  assert.equal(tests[2]!.directive, "SKIP kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux < 6.0)");
  assert.equal(tests.filter((t) => t.directive !== null).length, 1);
});

Deno.test("renderTap puts a YAML block with message and data under each failure", () => {
  const { yamlBlocks } = parseTap13(renderTap(REPORT));
  assert.equal(yamlBlocks.length, 2);
  const first = parseYamlBlock(yamlBlocks[0]!);
  assert.equal(
    first.message,
    "DMA_HEAP_IOCTL_ALLOC with len 0 failed with ENOMEM, the kernel documents EINVAL",
  );
  assert.equal(first.id, "system/alloc-len-0");
  assert.deepEqual(first.data, { expected: "EINVAL", actual: "ENOMEM", bytes: 0, ok: false, none: null });
});

Deno.test("renderTap keeps hostile text on one line, escapes # and round-trips it through YAML", () => {
  const text = renderTap(REPORT);
  const { tests, yamlBlocks } = parseTap13(text);
  assert.ok(tests[4]!.description.includes("\\#"), tests[4]!.description);
  assert.ok(!tests[4]!.description.includes("\n"));
  const yaml = parseYamlBlock(yamlBlocks[1]!);
  assert.equal(yaml.message, `reason ${NASTY}`);
  assert.deepEqual(yaml.data, { [`key ${NASTY}`]: NASTY, actual: "EINVAL" });
});

Deno.test("renderTap of no checks is a valid skipped plan", () => {
  const { plan, tests } = parseTap13(renderTap({ ...REPORT, results: [] }));
  assert.equal(plan, 0);
  assert.equal(tests.length, 0);
});
