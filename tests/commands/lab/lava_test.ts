/**
 * LAVA signals of smoke and bench reports, read back the way LAVA's dispatcher reads them. The regex and the
 * parameter handling are ported from Linaro/lava at commit d27bcfdb59c6b0cd670164fafb04d03a75ff002a:
 * `lava_dispatcher/actions/test/shell.py` (`TestShellAction._reset_patterns` "signal" pattern,
 * `handle_testcase`, `signal_test_set`, `check_patterns` splitting the parameters on whitespace),
 * `lava_dispatcher/connection.py` (`SignalMatch.match`: result values, float() measurements) and
 * `lava_results_app/dbutils.py` (`_check_for_testset`: a set name must survive URL quoting).
 * The expected lines are what `lava_dispatcher/lava_test_shell/lava-test-case` and `lava-test-set` print.
 */
import assert from "node:assert/strict";
import {
  LavaStream,
  renderBenchLava,
  renderLava,
  testCaseSignal,
  testSetStart,
} from "../../../commands/lab/lava.ts";
import type { BenchReport, MeasurementResult } from "../../../commands/bench/model.ts";
import { summarize } from "../../../commands/lab/report.ts";
import { sizeLabel } from "../../../commands/lab/names.ts";
import { MIXED } from "./fixtures.ts";
import { dispatcherRead } from "./lava_dispatcher.ts";

const ID = /^[A-Za-z0-9_.-]+$/;

Deno.test("signals are the lines lava-test-case and lava-test-set print", () => {
  // lava-test-case: TCDATA=" RESULT=$RESULT", then " UNITS=$UNITS", then " MEASUREMENT=$MEASUREMENT".
  assert.equal(
    testCaseSignal({ id: "system.alloc-4KiB", result: "pass" }),
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.alloc-4KiB RESULT=pass>",
  );
  assert.equal(
    testCaseSignal({ id: "a.b", result: "pass", measurement: { value: 812.54321, units: "ns" } }),
    "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a.b RESULT=pass UNITS=ns MEASUREMENT=812.543>",
  );
  assert.equal(testSetStart("system"), "<LAVA_SIGNAL_TESTSET START system>");
});

Deno.test("renderLava: one case per check, sets per group, reasons on plain lines", () => {
  assert.equal(
    renderLava(MIXED),
    [
      "<LAVA_SIGNAL_TESTSET START battery>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=battery.heaps-present RESULT=pass>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "<LAVA_SIGNAL_TESTSET START system>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.open RESULT=pass>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.alloc-4KiB RESULT=pass>",
      "# system.alloc-16MiB: fail: ioctl(DMA_HEAP_IOCTL_ALLOC) failed: ENOMEM # no memory second line TAB",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.alloc-16MiB RESULT=fail>",
      "# system.export-sync-file: skip: needs Linux 6.0 # or later",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.export-sync-file RESULT=skip>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "<LAVA_SIGNAL_TESTSET START linux_cma>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=linux_cma.open RESULT=pass>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=linux_cma.alloc_4_KiB__1 RESULT=pass>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=linux_cma.alloc_4_KiB__1-2 RESULT=pass>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "<LAVA_SIGNAL_TESTSET START udmabuf>",
      "# udmabuf.open: skip: no /dev/udmabuf",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=udmabuf.open RESULT=skip>",
      "# udmabuf.alloc-4KiB: skip: ",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=udmabuf.alloc-4KiB RESULT=skip>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "<LAVA_SIGNAL_TESTSET START battery>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=battery.no-fd-leak RESULT=pass>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "",
    ].join("\n"),
  );
});

Deno.test("the dispatcher reads every check of a smoke report once, with its result and set", () => {
  const records = dispatcherRead(renderLava(MIXED));
  assert.equal(records.length, MIXED.results.length);
  assert.equal(new Set(records.map((r) => r.case)).size, records.length, "ids unique");
  for (const r of records) assert.match(r.case, ID);
  records.forEach((r, i) => {
    const check = MIXED.results[i]!;
    assert.equal(r.result, check.status);
    assert.equal(r.set, check.group.replace(",", "_"));
  });
  const counts = summarize(MIXED.results);
  assert.equal(records.filter((r) => r.result === "fail").length, counts.failed);
  assert.equal(records.filter((r) => r.result === "skip").length, counts.skipped);
});

Deno.test("ids stay unique and safe whatever the check ids hold", () => {
  const nasty = ["a b", "a_b", "a/b", "a.b", "a\u00e9b", "", "#", "<LAVA_SIGNAL_X y>", "a_b"];
  const results = nasty.map((id) => ({ ...MIXED.results[1]!, id: `h p/${id}`, group: "h p" }));
  const text = renderLava({ ...MIXED, results });
  const records = dispatcherRead(text);
  assert.equal(records.length, nasty.length);
  assert.equal(new Set(records.map((r) => r.case)).size, nasty.length);
  for (const r of records) assert.match(r.case, ID);
  assert.deepEqual(records.map((r) => r.case), [
    "h_p.a_b",
    "h_p.a_b-2",
    "h_p.a_b-3",
    "h_p.a.b",
    "h_p.a_b-4",
    "h_p._",
    "h_p._-2",
    "h_p._LAVA_SIGNAL_X_y_",
    "h_p.a_b-5",
  ]);
});

Deno.test("a reason can never be read as a signal", () => {
  const evil = {
    ...MIXED.results[3]!,
    reason: "boom <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=x RESULT=pass> <LAVA_TEST_RUNNER EXIT>",
  };
  const text = renderLava({ ...MIXED, results: [evil] });
  assert.equal(dispatcherRead(text).length, 1);
  assert.ok(!text.includes("<LAVA_TEST_RUNNER EXIT>"));
});

Deno.test("LavaStream written during the run equals renderLava", () => {
  const stream = new LavaStream();
  const text = MIXED.results.map((r) => stream.result(r)).join("") + stream.end();
  assert.equal(text, renderLava(MIXED));
  assert.equal(new LavaStream().end(), "");
});

// ---------------------------------------------------------------------------------------------------------
// bench

function measurement(
  name: MeasurementResult["name"],
  kind: MeasurementResult["kind"],
  c: boolean,
): MeasurementResult {
  const stats = (ns: number) => ({
    samples: 200,
    medianNs: ns,
    p99Ns: ns * 2,
    mibPerSecond: kind === "bandwidth" ? 4096 / (ns / 1e9) / 1048576 : null,
  });
  return {
    name,
    kind,
    deno: { stats: stats(1000.123456), error: null },
    c: c ? { stats: stats(900), error: null } : null,
    cSingleThread: c ? { stats: null, error: "ENOMEM" } : null,
    ratio: null,
    goalMet: null,
  };
}

const BENCH: BenchReport = {
  kernel: "6.1.0-test",
  arch: "aarch64",
  startedAt: "2026-01-02T03:04:05.000Z",
  iterations: 200,
  latencyBatch: 32,
  pattern: "0xa5",
  clockResolutionNs: 100,
  goals: { latencyMaxRatio: 1.2, bandwidthMinRatio: 0.9 },
  reference: { available: true, binary: "/x", compiler: "gcc", cflags: "-O2", idleThreads: 1, reason: null },
  notMeasured: [],
  cases: [
    {
      heap: "system",
      size: 4096,
      requestedSize: 4096,
      iterations: 200,
      bandwidthIterations: 200,
      measurements: [measurement("allocClose", "latency", true), measurement("fill", "bandwidth", false)],
      error: null,
    },
    {
      heap: "linux,cma",
      size: 1048576,
      requestedSize: 1048576,
      iterations: 200,
      bandwidthIterations: 200,
      measurements: [],
      error: "open /dev/dma_heap/linux,cma: EACCES",
    },
  ],
};

Deno.test("renderBenchLava: measurements with units, C sides, failures without a measurement", () => {
  assert.equal(
    renderBenchLava(BENCH),
    [
      "<LAVA_SIGNAL_TESTSET START system>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose RESULT=pass UNITS=ns MEASUREMENT=1000.123>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose.p99 RESULT=pass UNITS=ns MEASUREMENT=2000.247>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose.c RESULT=pass UNITS=ns MEASUREMENT=900>",
      "# system.4KiB.allocClose.c-1thread: fail: ENOMEM",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose.c-1thread RESULT=fail>",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.fill RESULT=pass UNITS=MiB/s MEASUREMENT=3905.768>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "<LAVA_SIGNAL_TESTSET START linux_cma>",
      "# linux_cma.1MiB: fail: open /dev/dma_heap/linux,cma: EACCES",
      "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=linux_cma.1MiB RESULT=fail>",
      "<LAVA_SIGNAL_TESTSET STOP>",
      "",
    ].join("\n"),
  );
  const records = dispatcherRead(renderBenchLava(BENCH));
  assert.equal(new Set(records.map((r) => r.case)).size, records.length);
  for (const r of records) assert.match(r.case, ID);
  assert.deepEqual(records[0], {
    case: "system.4KiB.allocClose",
    result: "pass",
    set: "system",
    measurement: 1000.123,
    units: "ns",
  });
});

Deno.test("sizeLabel names sizes by the largest binary unit that divides them", () => {
  assert.deepEqual([4096, 1048576, 16777216, 1 << 30, 1000, 6144].map(sizeLabel), [
    "4KiB",
    "1MiB",
    "16MiB",
    "1GiB",
    "1000B",
    "6KiB",
  ]);
});

Deno.test("renderBenchLava says which measurements the kernel could not make, before any case", () => {
  const text = renderBenchLava({
    ...BENCH,
    notMeasured: [{
      name: "exportSyncFile",
      reason: "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux 6.0+)",
    }],
  });
  assert.match(
    text,
    /^# exportSyncFile: not measured: kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE \(Linux 6\.0\+\)\n</,
  );
});
