/**
 * LAVA test signals of a smoke run and of a bench report, exactly as LAVA's own shell helpers print them
 * (Linaro/lava `lava_dispatcher/lava_test_shell/lava-test-case` and `lava-test-set`):
 *
 *     <LAVA_SIGNAL_TESTSET START system>
 *     <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.alloc-4KiB RESULT=pass>
 *     <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=system.4KiB.allocClose RESULT=pass UNITS=ns MEASUREMENT=812.5>
 *     <LAVA_SIGNAL_TESTSET STOP>
 *
 * The signals are printed, not sent by running `lava-test-case`: that script prints this very line to
 * stdout (the serial console LAVA reads), so the output is the same inside and outside a LAVA job, with no
 * process per check on a slow board and nothing to find on PATH. (It also honours `KMSG` and
 * `CHARACTER_DELAY`, which a device needing them can get by piping through LAVA's own helpers.)
 *
 * Test case ids are `<group>.<check>` (`system.alloc-4KiB`, `battery.no-fd-leak`), each part mapped to
 * letters, digits, `_ - .` and made unique across the run (`-2`, `-3`, ...). A test set is opened per run of
 * checks of one group; the battery group's checks run first and last, so its set is opened twice, which
 * LAVA merges (the server's `TestSet.objects.get_or_create(name=..., suite=...)`). Why a check failed or was
 * skipped goes on a plain `# <id>: <reason>` line before its signal, for people reading the job log.
 *
 * Bench measurements: latency is the median in `ns` (the unit `bench --json` keeps), bandwidth the
 * median pass in `MiB/s` (bench's own unit, so the numbers equal `--json`'s `mibPerSecond`).
 * @module
 */

import type { CheckResult, CheckStatus, Report } from "./report.ts";
import type { BenchReport, Side } from "../bench/model.ts";
import { checkPart, safeName, sizeLabel, textLines, UniqueNames } from "./names.ts";

/** `lava-test-case --result` values this tool uses. */
export type LavaResult = CheckStatus;

/** One test case signal. */
export interface LavaCase {
  /** The test case id (letters, digits, `_ - .`). */
  id: string;
  /** The result. */
  result: LavaResult;
  /** A measurement and its units, when there is one. */
  measurement?: { value: number; units: string };
}

/** The `<LAVA_SIGNAL_TESTCASE ...>` line `lava-test-case ID --result R [--units U --measurement M]` prints. */
export function testCaseSignal(testCase: LavaCase): string {
  let data = ` RESULT=${testCase.result}`;
  // lava-test-case appends UNITS before MEASUREMENT; the dispatcher reads them as key=value in any order.
  if (testCase.measurement !== undefined) {
    data += ` UNITS=${testCase.measurement.units} MEASUREMENT=${measurementText(testCase.measurement.value)}`;
  }
  return `<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=${testCase.id}${data}>`;
}

/** The line `lava-test-set start NAME` prints. */
export function testSetStart(name: string): string {
  return `<LAVA_SIGNAL_TESTSET START ${name}>`;
}

/** The line `lava-test-set stop` prints. */
export const TEST_SET_STOP = "<LAVA_SIGNAL_TESTSET STOP>";

/** A number as the dispatcher's `float()` reads it: at most 3 decimals, no exponent for sane values. */
function measurementText(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

/**
 * A plain log line for people: `# <id>: <text>`. A `<LAVA_` inside the text is escaped, so a message can
 * never be read as a signal (the dispatcher matches `<LAVA_SIGNAL_(\S+) ([^>]+)>` anywhere in a line).
 */
function note(id: string, text: string): string {
  const line = textLines(text).join(" ").replaceAll("<LAVA_", "\\x3cLAVA_");
  return `# ${id}: ${line}`;
}

/**
 * The signals of a smoke run, written while it runs: {@link result} after each check, {@link end} after
 * the last. Each returns the lines that can be written now.
 */
export class LavaStream {
  #ids = new UniqueNames();
  #openGroup: string | null = null;

  /** The signals of one result, opening (and closing) test sets as the group changes. */
  result(result: CheckResult): string {
    const lines: string[] = [];
    if (result.group !== this.#openGroup) {
      if (this.#openGroup !== null) lines.push(TEST_SET_STOP);
      lines.push(testSetStart(safeName(result.group)));
      this.#openGroup = result.group;
    }
    const id = this.#ids.take(`${safeName(result.group)}.${safeName(checkPart(result.id, result.group))}`);
    if (result.status !== "pass") lines.push(note(id, `${result.status}: ${result.reason ?? ""}`));
    lines.push(testCaseSignal({ id, result: result.status }));
    return lines.map((line) => `${line}\n`).join("");
  }

  /** Closes the open test set, if any. */
  end(): string {
    if (this.#openGroup === null) return "";
    this.#openGroup = null;
    return `${TEST_SET_STOP}\n`;
  }
}

/** The LAVA signals of a finished smoke report; equal to what a {@link LavaStream} wrote during the run. */
export function renderLava(report: Report): string {
  const stream = new LavaStream();
  return report.results.map((r) => stream.result(r)).join("") + stream.end();
}

/** Units of bench measurements in signals. */
export const BENCH_UNITS = { latency: "ns", bandwidth: "MiB/s" } as const;

/**
 * The LAVA signals of a bench report: one test set per heap; per size and measurement, Deno's median
 * (`<heap>.<size>.<measurement>`), for latency also Deno's p99 (`...p99`), and the C reference's medians
 * (`...c` with one idle thread, `...c-1thread`) when it ran. A side that failed is a `fail` without a
 * measurement; a heap that could not be measured is one `fail` case `<heap>.<size>`. Missed goals are not
 * failures (bench reports them, it does not enforce them).
 */
export function renderBenchLava(report: BenchReport): string {
  const ids = new UniqueNames();
  const lines: string[] = [];
  let openHeap: string | null = null;
  const side = (base: string, kind: "latency" | "bandwidth", value: Side | null, p99 = false) => {
    if (value === null) return;
    const id = ids.take(base);
    if (value.stats === null) {
      lines.push(note(id, `fail: ${value.error}`), testCaseSignal({ id, result: "fail" }));
      return;
    }
    const number = kind === "bandwidth"
      ? value.stats.mibPerSecond
      : p99
      ? value.stats.p99Ns
      : value.stats.medianNs;
    if (number === null || !Number.isFinite(number)) {
      lines.push(note(id, "fail: no measurement"), testCaseSignal({ id, result: "fail" }));
      return;
    }
    lines.push(
      testCaseSignal({ id, result: "pass", measurement: { value: number, units: BENCH_UNITS[kind] } }),
    );
  };
  for (const { name, reason } of report.notMeasured) lines.push(`# ${name}: not measured: ${reason}`);
  for (const benchCase of report.cases) {
    if (benchCase.heap !== openHeap) {
      if (openHeap !== null) lines.push(TEST_SET_STOP);
      lines.push(testSetStart(safeName(benchCase.heap)));
      openHeap = benchCase.heap;
    }
    const prefix = `${safeName(benchCase.heap)}.${sizeLabel(benchCase.size)}`;
    if (benchCase.error !== null) {
      const id = ids.take(prefix);
      lines.push(note(id, `fail: ${benchCase.error}`), testCaseSignal({ id, result: "fail" }));
      continue;
    }
    for (const m of benchCase.measurements) {
      const base = `${prefix}.${safeName(m.name)}`;
      side(base, m.kind, m.deno);
      if (m.kind === "latency") side(`${base}.p99`, m.kind, m.deno, true);
      side(`${base}.c`, m.kind, m.c);
      side(`${base}.c-1thread`, m.kind, m.cSingleThread);
    }
  }
  if (openHeap !== null) lines.push(TEST_SET_STOP);
  return lines.map((line) => `${line}\n`).join("");
}
