/**
 * `dmabuf smoke --format ktap` and `--format lava` on the real kernel, read by their consumers: the KTAP by
 * the kernel's own parser (`tools/testing/kunit/kunit.py parse`, from the VM cache's kernel tree, which the
 * guest sees read-only), the LAVA signals by the dispatcher's regex; both against `smoke --json` of the same
 * kernel.
 * @module
 */
import assert from "node:assert/strict";
import { runCli } from "../run_cli.ts";
import { hwTest, type Need, needs } from "./hw.ts";
import {
  assertKunitSummary,
  findKunit,
  KUNIT_MISSING,
  kunitCases,
  kunitParse,
} from "../commands/lab/kunit.ts";
import { ktapDialect } from "../../commands/lab/ktap.ts";
import { dispatcherRead } from "../commands/lab/lava_dispatcher.ts";

const NEEDS = [needs.systemHeap, needs.cmaHeap, needs.udmabuf, needs.bufinfo];

/**
 * kunit.py of the kernel tree the VM was built from: the guest sees the host's root, and
 * `DMABUF_VM_SELFTESTS` is `<cache>/<kernel>/selftests` beside that tree (`HOME` is a tmpfs in the guest, so
 * {@link findKunit} would extract one from `/usr/src`, minutes under TCG). Elsewhere, {@link findKunit}.
 */
async function vmKunit(): Promise<string | null> {
  const selftests = Deno.env.get("DMABUF_VM_SELFTESTS");
  if (selftests !== undefined && selftests !== "") {
    const path = `${selftests.replace(/\/[^/]*\/?$/, "")}/linux/tools/testing/kunit/kunit.py`;
    try {
      Deno.statSync(path);
      return path;
    } catch {
      // Not there: fall back.
    }
  }
  return await findKunit();
}

const kunit = await vmKunit();
const kunitNeed: Need = { what: "kunit.py", missing: () => kunit === null ? KUNIT_MISSING : undefined };

interface JsonReport {
  results: { id: string; group: string; status: "pass" | "fail" | "skip" }[];
  summary: { total: number; passed: number; failed: number; skipped: number };
}

async function smokeJson(): Promise<JsonReport> {
  const { code, stdout, stderr } = await runCli(["smoke", "--json"]);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as JsonReport;
}

/** `group status` for each result, sorted: what both formats must carry. */
function groupStatuses(results: readonly { group: string; status: string }[]): string[] {
  return results.map((r) => `${r.group} ${r.status}`).sort();
}

// kunit_json.py's _status_map.
const KUNIT_STATUS: Record<string, string> = { PASS: "pass", FAIL: "fail", SKIP: "skip" };

hwTest({
  name: `smoke --format ktap in this kernel's dialect (${
    ktapDialect(Deno.osRelease())
  }): its own kunit.py parse reads every check, no error, counts equal to --json's`,
  needs: [...NEEDS, kunitNeed],
  fn: async () => {
    const report = await smokeJson();
    const ktap = await runCli(["smoke", "--format", "ktap"]);
    assert.equal(ktap.code, 0, ktap.stderr);
    assert.equal(
      ktap.stdout.split("\n")[0],
      ktapDialect(Deno.osRelease()) === "ktap1" ? "KTAP version 1" : "TAP version 14",
    );
    const parsed = await kunitParse(kunit!, ktap.stdout);
    assert.equal(parsed.stderr, "");
    assert.equal(parsed.code, 0, parsed.stdout);
    assertKunitSummary(parsed.stdout, report.summary);
    const cases = kunitCases(parsed.json).map((line) => {
      const [path, status] = line.split(" ") as [string, string];
      return { group: path.slice(0, path.indexOf("/")), status: KUNIT_STATUS[status] ?? status };
    });
    assert.deepEqual(groupStatuses(cases), groupStatuses(report.results));
  },
});

/** A test case id as LAVA takes it (`lava_test_shell` refuses anything else). */
const CASE_ID = /^[A-Za-z0-9_.-]+$/;

hwTest({
  name: "smoke --format lava: well-formed signals, unique ids, one case per check of --json in sets per heap",
  needs: NEEDS,
  fn: async () => {
    const report = await smokeJson();
    const lava = await runCli(["smoke", "--format", "lava"]);
    assert.equal(lava.code, 0, lava.stderr);
    const lines = lava.stdout.trimEnd().split("\n");
    // Every line is a signal or a '# ' note, and every signal line is one whole signal.
    for (const line of lines) {
      assert.match(
        line,
        /^(<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=\S+ RESULT=(pass|fail|skip)>|<LAVA_SIGNAL_TESTSET START \S+>|<LAVA_SIGNAL_TESTSET STOP>|# .*)$/,
      );
    }
    const cases = dispatcherRead(lava.stdout);
    for (const c of cases) assert.match(c.case, CASE_ID);
    assert.equal(new Set(cases.map((c) => c.case)).size, cases.length, "ids are unique");
    assert.equal(cases.length, report.summary.total);
    assert.deepEqual(
      groupStatuses(cases.map((c) => ({ group: c.set ?? "", status: c.result }))),
      groupStatuses(report.results),
    );
    // Sets open and close in pairs, never nested.
    const sets = lines.filter((line) => line.startsWith("<LAVA_SIGNAL_TESTSET"));
    sets.forEach((line, i) => assert.equal(line.includes(" STOP"), i % 2 === 1, line));
  },
});
