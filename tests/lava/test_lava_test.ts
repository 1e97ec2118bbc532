/**
 * The LAVA tier's host side: the lab's job and its local copy, the job's definitions, lava-run's results
 * records and the verdict drawn from them. The tier itself (lava-run booting the device) is
 * `deno task test:lava`, run by tests/run_all.sh.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { fileURLToPath } from "node:url";
import {
  arm64Job,
  JOB_FILE,
  type JobDefinition,
  judgeLava,
  LAB_URLS,
  type LavaResult,
  localJob,
  parseLavaLog,
  readJob,
  referenceScript,
} from "./test_lava.ts";
import { expectedCases } from "./compare.ts";
import { renderJson } from "../../commands/smoke/report_format.ts";
import { ALL_PASS, report, result } from "../commands/lab/fixtures.ts";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const DEFINITION = fileURLToPath(new URL("dmabuf-smoke.yaml", import.meta.url));
const LOCAL = {
  kernel: "/cache/bzImage",
  ramdisk: "/cache/root.cpio.gz",
  repository: "/tmp/work/dmabuf.git",
};

Deno.test("README's lab job is tests/lava/dmabuf-job.yaml, the job the tier runs", async () => {
  const readme = await Deno.readTextFile(README);
  const job = await Deno.readTextFile(JOB_FILE);
  assert.ok(readme.includes("```yaml\n" + job + "```\n"), "README.md shows dmabuf-job.yaml verbatim");
});

Deno.test("localJob replaces the lab's URLs by local files and changes nothing else", async () => {
  const text = await Deno.readTextFile(JOB_FILE);
  const local = localJob(text, LOCAL);
  const lab = parse(text);
  const fileUrls = Object.fromEntries(
    Object.entries(LAB_URLS).map(([key, url]) => [url, `file://${LOCAL[key as keyof typeof LOCAL]}`]),
  );
  const swap = (value: unknown): unknown =>
    typeof value === "string"
      ? Object.entries(fileUrls).reduce((text, [url, file]) => text.replaceAll(url, file), value)
      : Array.isArray(value)
      ? value.map(swap)
      : value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, swap(item)]))
      : value;
  assert.deepEqual(parse(local), swap(lab));
  assert.notEqual(local, text);
  assert.ok(!local.includes("example.org"));
  assert.throws(
    () => localJob(text.replace(LAB_URLS.kernel, "https://elsewhere/bzImage"), LOCAL),
    /The job has no https:\/\/example.org\/dmabuf\/bzImage \(kernel\) to replace/,
  );
});

Deno.test("arm64Job changes the architecture and the console, and nothing else", async () => {
  const text = await Deno.readTextFile(JOB_FILE);
  const arm64 = arm64Job(text);
  const job = parse(arm64) as { context: Record<string, string>; actions: Record<string, unknown>[] };
  assert.deepEqual(job.context, { arch: "arm64", guestfs_interface: "virtio" });
  assert.match(arm64, /-append "console=ttyAMA0 dmabuf\.init=shell"/);
  assert.equal(
    arm64.replace("arch: arm64", "arch: amd64").replace("console=ttyAMA0", "console=ttyS0,115200"),
    text,
  );
  assert.throws(
    () => arm64Job(text.replace("arch: amd64", "arch: x86_64")),
    /does not hold "arch: amd64" once/,
  );
});

Deno.test("readJob: the context the device is rendered with, and the definitions as LAVA names them", async () => {
  const job = readJob(await Deno.readTextFile(JOB_FILE), await Deno.readTextFile(DEFINITION));
  assert.deepEqual(job.context, { arch: "amd64", guestfs_interface: "virtio" });
  assert.deepEqual(job.definitions, [
    { suite: "0_dmabuf-smoke", name: "dmabuf-smoke", heaps: [] },
    { suite: "1_dmabuf-required-heaps", name: "dmabuf-required-heaps", heaps: ["system", "cma", "carveout"] },
  ]);
  const parsed = parse(await Deno.readTextFile(JOB_FILE)) as {
    actions: { test?: { definitions: { repository: string; from: string; path: string }[] } }[];
  };
  for (const definition of parsed.actions.flatMap((action) => action.test?.definitions ?? [])) {
    assert.deepEqual(
      [definition.repository, definition.from, definition.path],
      [LAB_URLS.repository, "git", "tests/lava/dmabuf-smoke.yaml"],
    );
  }
});

Deno.test("parseLavaLog reads the results records of lava-run's log, with or without a list dash", () => {
  const log = [
    '{"dt": "2026-12-05T20:24:44.39", "lvl": "info", "msg": "lava-dispatcher, installed at version: 2023.01"}',
    '{"dt": "2026-12-05T20:24:44.50", "lvl": "results", "msg": {"case": "validate", "definition": "lava", ' +
    '"result": "pass"}}',
    '- {"dt": "2026-12-05T20:25:01.10", "lvl": "results", "msg": {"case": "system.open", "definition": ' +
    '"0_dmabuf-smoke", "result": "pass", "set": "system"}}',
    // As lava-run 2023.01 writes a case (numbers as YAML's non-specific tag `!`).
    '{"dt": "2026-12-05T20:43:09.281471", "lvl": "results", "msg": {"case": "carveout.open", "definition": ' +
    '"1_dmabuf-required-heaps", "endtc": ! "863", "result": "fail", "set": "carveout", "starttc": ! "863"}}',
    '{"dt": "2026-12-05T20:25:02.00", "lvl": "target", "msg": "\\e[0m\\"lvl\\": \\"results\\" in the console"}',
    "",
  ].join("\n");
  assert.deepEqual(parseLavaLog(log), [
    { case: "validate", definition: "lava", result: "pass" },
    { case: "system.open", definition: "0_dmabuf-smoke", result: "pass", set: "system" },
    {
      case: "carveout.open",
      definition: "1_dmabuf-required-heaps",
      endtc: "863",
      result: "fail",
      set: "carveout",
      starttc: "863",
    },
  ]);
});

/** What lava-run records for a run of `reports`' checks, each definition's run-level cases passed. */
function lavaResults(runs: [JobDefinition, ReturnType<typeof report>][], job = "pass"): LavaResult[] {
  const results: LavaResult[] = [];
  for (const [definition, smoke] of runs) {
    results.push({ definition: definition.suite, case: "dmabuf-bundle", result: "pass" });
    for (const check of expectedCases(smoke)) {
      results.push({ definition: definition.suite, case: check.id, result: check.result, set: check.set });
    }
    results.push({ definition: definition.suite, case: "dmabuf-smoke-complete", result: "pass" });
    results.push({ definition: "lava", case: definition.suite, result: "pass" });
  }
  results.push(
    job === "pass" ? { definition: "lava", case: "job", result: "pass" } : {
      definition: "lava",
      case: "job",
      result: "fail",
      error_type: "Infrastructure",
      error_msg: "auto-login-action timed out after 300 seconds",
    },
  );
  return results;
}

const ALL: JobDefinition = { suite: "0_dmabuf-smoke", name: "dmabuf-smoke", heaps: [] };
const REQUIRED: JobDefinition = { suite: "1_required", name: "required", heaps: ["system", "carveout"] };
const MISSING = report([
  result({ id: "battery/heaps-present", group: "battery" }),
  result({ id: "system/open", group: "system" }),
  result({ id: "carveout/open", group: "carveout", status: "fail", reason: "ENOENT" }),
  result({ id: "carveout/alloc-4KiB", group: "carveout", status: "skip", reason: "carveout/open failed" }),
  result({ id: "battery/no-fd-leak", group: "battery" }),
]);
const REFERENCES = new Map([
  [ALL.suite, { text: renderJson(ALL_PASS), status: 0 }],
  [REQUIRED.suite, { text: renderJson(MISSING), status: 1 }],
]);

function failures(results: LavaResult[], status = 0, references = REFERENCES): string[] {
  return judgeLava(results, status, [ALL, REQUIRED], references).filter((test) => !test.ok)
    .map((test) => `${test.description}: ${test.diagnostics.join("; ")}`);
}

Deno.test("judgeLava: a completed job whose cases match the references passes, the injected failure included", () => {
  const tests = judgeLava(
    lavaResults([[ALL, ALL_PASS], [REQUIRED, MISSING]]),
    0,
    [ALL, REQUIRED],
    REFERENCES,
  );
  assert.deepEqual(tests.filter((test) => !test.ok), []);
  // The job, two runs ended, 1 + 3 + 2 + 1 and 1 + 5 + 2 + 1 comparisons, all passed, the injected failure.
  assert.equal(tests.length, 1 + 2 + 7 + 9 + 1 + 1);
  assert.ok(tests.some((test) =>
    test.description ===
      "1_required: a heap of HEAPS=system,carveout the device lacks is a failed case (carveout.open)"
  ));
  assert.ok(
    tests.some((test) =>
      test.description ===
        "1_required: carveout.open: one case, fail as carveout/open in --json, in set carveout"
    ),
  );
});

Deno.test("judgeLava: an incomplete job fails with LAVA's own error line", () => {
  assert.deepEqual(failures(lavaResults([[ALL, ALL_PASS], [REQUIRED, MISSING]], "fail"), 1), [
    "lava: the job completed (lava-run exits 0, the lava suite's job case passed): " +
    "Infrastructure error: auto-login-action timed out after 300 seconds",
  ]);
  const none = failures([], 1);
  assert.equal(
    none[0],
    "lava: the job completed (lava-run exits 0, the lava suite's job case passed): " +
      "lava-run recorded 0 job results (exit status 1)",
  );
  assert.ok(
    none.includes(
      "lava: 0_dmabuf-smoke ran to its end (lava suite case 0_dmabuf-smoke pass): recorded nothing",
    ),
  );
  assert.ok(none.includes(
    "1_required: a heap of HEAPS=system,carveout the device lacks is a failed case: " +
      "LAVA recorded no failed case: name a heap the device lacks in HEAPS",
  ));
});

Deno.test("judgeLava: a case LAVA recorded differently from smoke --json, or not at all, fails", () => {
  const results = lavaResults([[ALL, ALL_PASS], [REQUIRED, MISSING]]);
  const passed = results.map((r) => r.case === "carveout.open" ? { ...r, result: "pass" } : r);
  assert.deepEqual(failures(passed), [
    "1_required: carveout.open: one case, fail as carveout/open in --json, in set carveout: recorded as pass",
    "1_required: a heap of HEAPS=system,carveout the device lacks is a failed case: " +
    "LAVA recorded no failed case: name a heap the device lacks in HEAPS",
  ]);
  const failing = results.map((r) =>
    r.definition === ALL.suite && r.case === "system.open" ? { ...r, result: "fail" } : r
  );
  assert.deepEqual(failures(failing, 0, REFERENCES), [
    "0_dmabuf-smoke: system.open: one case, pass as system/open in --json, in set system: recorded as fail",
    "0_dmabuf-smoke: every case passed (every heap of the device, and udmabuf): system.open: fail",
  ]);
  const lost = results.filter((r) => !(r.definition === ALL.suite && r.case === "system.open"));
  assert.deepEqual(failures(lost), [
    "0_dmabuf-smoke: system.open: one case, pass as system/open in --json, in set system: recorded 0 times",
  ]);
  assert.deepEqual(failures(results, 0, new Map([[ALL.suite, REFERENCES.get(ALL.suite)!]])).slice(0, 1), [
    "1_required: smoke --json: a report of no checks, its exit status matching: " +
    "not a smoke --json report: Unexpected end of JSON input",
  ]);
});

Deno.test("referenceScript runs smoke --json per definition with its heaps, as sections", () => {
  assert.equal(
    referenceScript("/b/dmabuf", [ALL, REQUIRED]),
    `echo '@@text 0_dmabuf-smoke'; '/b/dmabuf' smoke --json; echo "@@exit $?"\n` +
      `echo '@@text 1_required'; '/b/dmabuf' smoke --json --heap 'system' --heap 'carveout'; echo "@@exit $?"`,
  );
});
