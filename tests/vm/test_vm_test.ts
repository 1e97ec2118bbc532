import assert from "node:assert/strict";
import { compareLavaRun, judgeBoard, parseTap, splitBoardOutput } from "./test_vm.ts";
import { comparisonTap } from "../lava/compare.ts";
import { renderJson } from "../../commands/smoke/report_format.ts";
import { renderLava } from "../../commands/lab/lava.ts";
import { MIXED, report, result } from "../commands/lab/fixtures.ts";

const SMOKE_OK = "TAP version 13\n1..2\nok 1 - system: alloc\nok 2 - udmabuf: alloc\n";

/** A report of two passing checks, as smoke --json prints it, and its LAVA run (see lavaRun). */
const SMALL = report([
  result({ id: "system/alloc", group: "system" }),
  result({ id: "udmabuf/alloc", group: "udmabuf" }),
]);
/** The tests compareLavaRun makes of SMALL: 4 about the run, one per check, 2 run-level cases, 1 for extras. */
const SMALL_TESTS = 4 + 2 + 2 + 1;

function board(
  smoke: string,
  scenario = "1..1\nok 1 - held\n",
  machine = "aarch64 6.12.117 page=4k",
): string {
  return `@@machine ${machine}\n@@tap smoke\n${smoke}@@exit ${/not ok/.test(smoke) ? 1 : 0}\n` +
    `@@tap scenario\n${scenario}@@exit ${/not ok/.test(scenario) ? 1 : 0}\n` +
    `@@text lava-run\n${lavaRun(renderLava(SMALL))}@@exit 0\n@@text smoke-json\n${
      renderJson(SMALL)
    }@@exit 0\n`;
}

/** The console of the definition's run.sh around smoke's signals, as busybox sh and the recorders print it. */
function lavaRun(signals: string, complete = "pass"): string {
  return "<LAVA_SIGNAL_STARTRUN 0_dmabuf-smoke local>\n0.1.0\n" +
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=dmabuf-bundle RESULT=pass>\n" + signals +
    `<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=dmabuf-smoke-complete RESULT=${complete}>\n` +
    "<LAVA_SIGNAL_ENDRUN 0_dmabuf-smoke local>\n";
}

/** compareLavaRun's failed tests, as `description: diagnostics`. */
function failures(run: string, json: string, runStatus = 0, smokeStatus = 1): string[] {
  return compareLavaRun({ text: run, status: runStatus }, { text: json, status: smokeStatus })
    .filter((test) => !test.ok)
    .map((test) => `${test.description}: ${test.diagnostics.join("; ")}`);
}

Deno.test("parseTap reads ok, not ok with a YAML block, SKIP and comments", () => {
  const report = parseTap(
    "TAP version 13\n1..3\nok 1 - a\nnot ok 2 - b\n  ---\n  message: 'lseek returned 16384'\n  ...\n" +
      "# a comment\nok 3 - c # SKIP no debugfs\n",
  );
  assert.deepEqual(report.problems, []);
  assert.deepEqual(report.tests.map((t) => [t.number, t.ok, t.skip, t.description]), [
    [1, true, false, "a"],
    [2, false, false, "b"],
    [3, true, true, "c"],
  ]);
});

Deno.test("parseTap is strict: no plan, short runs, numbering gaps and stray lines are problems", () => {
  assert.deepEqual(parseTap("ok 1 - a\n").problems, ["no plan (1..N)"]);
  assert.deepEqual(parseTap("1..2\nok 1 - a\n").problems, ["planned 2 tests, 1 ran"]);
  assert.deepEqual(parseTap("1..2\nok 1\nok 3\n").problems, ["test 3 where 2 was due"]);
  assert.deepEqual(parseTap("1..1\nWarning: something\nok 1\n").problems, ["not TAP: Warning: something"]);
});

Deno.test("splitBoardOutput finds the machine line and each section's TAP and status", () => {
  const { machine, sections } = splitBoardOutput(board(SMOKE_OK));
  assert.equal(machine, "aarch64 6.12.117 page=4k");
  assert.deepEqual(sections.map((s) => [s.name, s.kind, s.status]), [
    ["smoke", "tap", 0],
    ["scenario", "tap", 0],
    ["lava-run", "text", 0],
    ["smoke-json", "text", 0],
  ]);
  assert.equal(sections[0]!.text, SMOKE_OK);
});

Deno.test("judgeBoard: all passing on the asked page size is clean", () => {
  assert.deepEqual(judgeBoard(board(SMOKE_OK), "4k"), {
    passed: 3 + SMALL_TESTS,
    failed: 0,
    skipped: 0,
    notes: [],
  });
});

Deno.test("judgeBoard counts failures and skips by name, and checks the page size and both sections", () => {
  const verdict = judgeBoard(
    board(
      "1..3\nok 1 - a\nnot ok 2 - system: size-4KiB\nok 3 - c # SKIP failed earlier\n",
      undefined,
      "aarch64 x page=16k",
    ),
    "16k",
  );
  assert.equal(verdict.passed, 2 + SMALL_TESTS);
  assert.equal(verdict.failed, 1);
  assert.equal(verdict.skipped, 1);
  assert.deepEqual(verdict.notes, ["smoke: not ok 2 - system: size-4KiB", "smoke: skipped 3 - c"]);
  assert.equal(judgeBoard(board(SMOKE_OK), "16k").failed, 1, "a 4k guest when 16k was asked");
  const noLava = judgeBoard("@@machine aarch64 x page=4k\n@@tap smoke\n" + SMOKE_OK, "4k");
  assert.deepEqual(noLava.notes.slice(0, 2), ["smoke: never finished", "scenario: no output"]);
  assert.ok(
    noLava.notes.slice(2).every((note) => note.startsWith("lava: ")),
    "the comparison fails, honestly",
  );
  assert.ok(noLava.failed > 2);
});

Deno.test("compareLavaRun: a faithful run matches, failing checks, collided ids and a reopened set included", () => {
  const json = renderJson(MIXED);
  const tests = compareLavaRun({ text: lavaRun(renderLava(MIXED)), status: 0 }, { text: json, status: 1 });
  assert.deepEqual(tests.filter((test) => !test.ok), []);
  assert.equal(tests.length, 4 + MIXED.results.length + 2 + 1);
  assert.ok(
    tests.some((test) =>
      test.description === "system.alloc-16MiB: one case, fail as system/alloc-16MiB in --json, in set system"
    ),
  );
  assert.ok(tests.some((test) => test.description.startsWith("linux_cma.alloc_4_KiB__1-2: one case, pass")));
  const tap = parseTap(comparisonTap(tests));
  assert.deepEqual(tap.problems, []);
  assert.equal(tap.tests.length, tests.length);
});

Deno.test("compareLavaRun: a different result, a missing, doubled or extra case and a wrong set each fail", () => {
  const json = renderJson(SMALL);
  const signals = renderLava(SMALL);
  assert.deepEqual(failures(lavaRun(signals), json, 0, 0), []);
  assert.deepEqual(
    failures(lavaRun(signals.replace("system.alloc RESULT=pass", "system.alloc RESULT=fail")), json, 0, 0),
    ["system.alloc: one case, pass as system/alloc in --json, in set system: recorded as fail"],
  );
  assert.deepEqual(
    failures(lavaRun(signals.replace(/^.*udmabuf.alloc.*\n/m, "")), json, 0, 0),
    ["udmabuf.alloc: one case, pass as udmabuf/alloc in --json, in set udmabuf: recorded 0 times"],
  );
  const doubled = signals.replace(/^(.*system.alloc.*\n)/m, "$1$1");
  assert.deepEqual(failures(lavaRun(doubled), json, 0, 0), [
    "system.alloc: one case, pass as system/alloc in --json, in set system: recorded 2 times",
  ]);
  const extra = signals.replace(
    "<LAVA_SIGNAL_TESTSET STOP>\n",
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.x RESULT=pass>\n<LAVA_SIGNAL_TESTSET STOP>\n",
  );
  assert.deepEqual(failures(lavaRun(extra), json, 0, 0), [
    "definition: no case beyond smoke's checks and the run-level cases: extra: system.x",
  ]);
  const moved = signals.replace("<LAVA_SIGNAL_TESTSET START udmabuf>", "<LAVA_SIGNAL_TESTSET START other>");
  assert.deepEqual(failures(lavaRun(moved), json, 0, 0), [
    "udmabuf.alloc: one case, pass as udmabuf/alloc in --json, in set udmabuf: recorded in set other",
  ]);
});

Deno.test("compareLavaRun: run-level cases, set pairing, the run's end and smoke's JSON and status are checked", () => {
  const json = renderJson(SMALL);
  const signals = renderLava(SMALL);
  assert.deepEqual(failures(lavaRun(signals, "fail"), json, 0, 0), [
    "definition: run-level case dmabuf-smoke-complete once, pass, outside any test set: recorded as fail",
  ]);
  const unclosed = signals.replace(/<LAVA_SIGNAL_TESTSET STOP>\n$/, "");
  assert.deepEqual(failures(lavaRun(unclosed), json, 0, 0), [
    "definition: each test set START is closed by a STOP before the next: udmabuf is never stopped",
    "definition: run-level case dmabuf-smoke-complete once, pass, outside any test set: recorded in set udmabuf",
  ]);
  const crashed = lavaRun(signals).replace(/^<LAVA_SIGNAL_ENDRUN.*\n/m, "");
  assert.deepEqual(failures(crashed, json, 2, 0), [
    "definition: run.sh exits 0, between STARTRUN and ENDRUN: run.sh exit status 2; no ENDRUN signal",
  ]);
  assert.deepEqual(failures(lavaRun(signals), json, 0, 1), [
    "smoke --json: a report of 2 checks, its exit status matching: exit status 1 with no failed check",
  ]);
  const notJson = failures(lavaRun(signals), "Segmentation fault\n", 0, 139);
  assert.equal(notJson.length, 2);
  assert.match(
    notJson[0]!,
    /^smoke --json: a report of no checks, its exit status matching: not a smoke --json report: /,
  );
  assert.match(notJson[1]!, /extra: system.alloc, udmabuf.alloc$/);
});
