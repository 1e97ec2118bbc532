/**
 * The cases LAVA recorded for a run of tests/lava/dmabuf-smoke.yaml against `dmabuf smoke --json` of the same
 * battery: used by the board tier (tests/vm/test_vm.ts, cases read from the console as the dispatcher reads
 * them) and the LAVA tier (tests/lava/test_lava.ts, cases from lava-run's own results).
 * @module
 */

import type { LavaRecord } from "../commands/lab/lava_dispatcher.ts";
import { checkPart, safeName, UniqueNames } from "../../commands/lab/names.ts";
import type { Report } from "../../commands/lab/report.ts";

/** The definition's cases for the run as a whole (dmabuf-smoke.yaml's steps), besides smoke's checks. */
export const RUN_LEVEL_CASES = ["dmabuf-bundle", "dmabuf-smoke-complete"] as const;

/** One test of a comparison. */
export interface ComparisonTest {
  ok: boolean;
  description: string;
  /** Why it failed, one line each. */
  diagnostics: string[];
}

/** What a command brought back: its output and its exit status (undefined: it never finished). */
export interface SectionOutput {
  text: string;
  status: number | undefined;
}

/** A list of comparison tests, and the function that adds one (passed when it has no diagnostics). */
export function testList(): {
  tests: ComparisonTest[];
  test: (description: string, diagnostics: string[]) => void;
} {
  const tests: ComparisonTest[] = [];
  return {
    tests,
    test: (description, diagnostics) =>
      tests.push({ ok: diagnostics.length === 0, description, diagnostics }),
  };
}

/** The case LAVA should record for one smoke check. */
export interface ExpectedCase {
  /** The test case id, `<group>.<check>` as commands/lab/names.ts maps and uniquifies them. */
  id: string;
  /** pass, fail or skip. */
  result: string;
  /** The test set: the check's group. */
  set: string;
  /** The check's id in --json. */
  checkId: string;
}

/** The cases `dmabuf smoke --format lava` prints for a report, in order. */
export function expectedCases(report: Report): ExpectedCase[] {
  const ids = new UniqueNames();
  return report.results.map((result) => {
    const set = safeName(result.group);
    return {
      id: ids.take(`${set}.${safeName(checkPart(result.id, result.group))}`),
      result: result.status,
      set,
      checkId: result.id,
    };
  });
}

/** Parses `dmabuf smoke --json`'s output; throws with the reason when it is not a report. */
export function parseReport(text: string): Report {
  const report = JSON.parse(text) as Report;
  if (!Array.isArray(report?.results)) throw new Error("no results array");
  return report;
}

/**
 * Compares recorded cases with `dmabuf smoke --json` (`smoke`) of the same battery: the JSON is a report
 * whose exit status matches its results; every smoke check is exactly one case with the JSON's result, in
 * its group's test set; each run-level case is there once, passed, outside any set; and there is no other
 * case. Failing checks do not fail these tests, a result that differs does.
 */
export function compareCases(
  records: readonly LavaRecord[],
  smoke: SectionOutput,
  runLevelCases: readonly string[] = RUN_LEVEL_CASES,
): ComparisonTest[] {
  const { tests, test } = testList();
  let report: Report | undefined;
  const smokeProblems: string[] = [];
  try {
    report = parseReport(smoke.text);
  } catch (error) {
    smokeProblems.push(`not a smoke --json report: ${(error as Error).message}`);
  }
  if (report !== undefined) {
    const failed = report.results.some((result) => result.status === "fail");
    if (smoke.status !== (failed ? 1 : 0)) {
      smokeProblems.push(`exit status ${smoke.status ?? "none"} with ${failed ? "a" : "no"} failed check`);
    }
  }
  test(
    `smoke --json: a report of ${report?.results.length ?? "no"} checks, its exit status matching`,
    smokeProblems,
  );

  const byCase = Map.groupBy(records, (record) => record.case);
  const once = (id: string, result: string, set: string | null): string[] => {
    const found = byCase.get(id) ?? [];
    if (found.length !== 1) return [`recorded ${found.length} times`];
    const problems: string[] = [];
    if (found[0]!.result !== result) problems.push(`recorded as ${found[0]!.result}`);
    if (found[0]!.set !== set) {
      problems.push(`recorded in ${found[0]!.set === null ? "no set" : `set ${found[0]!.set}`}`);
    }
    return problems;
  };
  const expected = new Set<string>();
  for (const check of report === undefined ? [] : expectedCases(report)) {
    expected.add(check.id);
    test(
      `${check.id}: one case, ${check.result} as ${check.checkId} in --json, in set ${check.set}`,
      once(check.id, check.result, check.set),
    );
  }
  for (const id of runLevelCases) {
    expected.add(id);
    test(`definition: run-level case ${id} once, pass, outside any test set`, once(id, "pass", null));
  }
  const extra = [...byCase.keys()].filter((id) => !expected.has(id));
  test(
    "definition: no case beyond smoke's checks and the run-level cases",
    extra.length === 0 ? [] : [`extra: ${extra.join(", ")}`],
  );
  return tests;
}

/** Comparison tests as a TAP stream. */
export function comparisonTap(tests: readonly ComparisonTest[]): string {
  return `1..${tests.length}\n` +
    tests.map((test, index) =>
      `${test.ok ? "ok" : "not ok"} ${index + 1} - ${test.description}\n` +
      test.diagnostics.map((line) => `# ${line}\n`).join("")
    ).join("");
}
