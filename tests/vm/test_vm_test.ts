import assert from "node:assert/strict";
import { judgeBoard, parseTap, splitBoardOutput } from "./test_vm.ts";

const SMOKE_OK = "TAP version 13\n1..2\nok 1 - system: alloc\nok 2 - udmabuf: alloc\n";

function board(
  smoke: string,
  scenario = "1..1\nok 1 - held\n",
  machine = "aarch64 6.12.117 page=4k",
): string {
  return `@@machine ${machine}\n@@tap smoke\n${smoke}@@exit ${/not ok/.test(smoke) ? 1 : 0}\n` +
    `@@tap scenario\n${scenario}@@exit ${/not ok/.test(scenario) ? 1 : 0}\n`;
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
  assert.deepEqual(sections.map((s) => [s.name, s.status]), [["smoke", 0], ["scenario", 0]]);
  assert.equal(sections[0]!.tap, SMOKE_OK);
});

Deno.test("judgeBoard: all passing on the asked page size is clean", () => {
  assert.deepEqual(judgeBoard(board(SMOKE_OK), "4k"), { passed: 3, failed: 0, skipped: 0, notes: [] });
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
  assert.equal(verdict.passed, 2);
  assert.equal(verdict.failed, 1);
  assert.equal(verdict.skipped, 1);
  assert.deepEqual(verdict.notes, ["smoke: not ok 2 - system: size-4KiB", "smoke: skipped 3 - c"]);
  assert.equal(judgeBoard(board(SMOKE_OK), "16k").failed, 1, "a 4k guest when 16k was asked");
  assert.equal(judgeBoard("@@machine aarch64 x page=4k\n@@tap smoke\n" + SMOKE_OK, "4k").failed, 2);
});
