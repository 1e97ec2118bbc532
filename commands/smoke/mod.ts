/**
 * `dmabuf smoke`: the board bring-up battery (see {@link smokeBattery}), reported for people or lab runners
 * (human, TAP 13, JUnit XML, JSON, KTAP 1, LAVA signals). Exits 0 only when no check failed.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { Exit, ExitCode, UsageError } from "../toolkit/errors.ts";
import { checkDirectory, UserOutput } from "../toolkit/user_file.ts";
import { HEAP_DIR } from "../../ffi/dma_heap.ts";
import { smokeBattery } from "./checks.ts";
import { type Check, runChecks } from "./runner.ts";
import { smokeTargets } from "./targets.ts";
import { renderReport } from "./report_format.ts";
import type { ReportFormat } from "../toolkit/flags.ts";
import { type CheckResult, type Report, summarize } from "../lab/report.ts";
import { tapHeader, tapResult } from "../lab/tap.ts";
import { ktapDialect, KtapStream } from "../lab/ktap.ts";
import { LavaStream } from "../lab/lava.ts";

/** Flags of `dmabuf smoke`. */
export interface SmokeFlags extends CommonFlags {
  /** Only these heaps (repeatable); `udmabuf` selects udmabuf. All heaps and udmabuf when absent. */
  readonly heap?: readonly string[];
  /** Directory of heap device nodes (default /dev/dma_heap). */
  readonly heapDir?: string;
  /** Report format. */
  readonly format?: ReportFormat;
  /** Write the report to this file instead of stdout. */
  readonly output?: string;
}

/** The suite name in reports. */
export const SMOKE_SUITE = "dmabuf smoke";

/** ANSI: carriage return and erase to the end of the line, for the progress line. */
const CLEAR_LINE = "\r\x1b[K";

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * Runs the checks (see {@link runChecks}), showing `[n/N] heap: check` on stderr when it is a terminal and
 * `progress` allows it, and handing each result to `done` as soon as it is known.
 */
function runAll(
  this: DmabufContext,
  checks: readonly Check[],
  options: { progress: boolean; done: (result: CheckResult, index: number) => void },
): CheckResult[] {
  const stderr = this.io.stderr;
  const progress = options.progress && stderr.isTerminal;
  return runChecks(checks, {
    starting: (check, index) => {
      if (progress) {
        stderr.write(`${CLEAR_LINE}[${index + 1}/${checks.length}] ${check.group}: ${check.name}`);
      }
    },
    done: (result, index) => {
      if (progress) stderr.write(CLEAR_LINE);
      options.done(result, index);
    },
  });
}

/** Runs the battery and reports it. */
export function smoke(this: DmabufContext, flags: SmokeFlags): void {
  if (flags.json && flags.format !== undefined && flags.format !== "json") {
    throw new UsageError(`--json conflicts with --format ${flags.format}: give one of them`);
  }
  const format: ReportFormat = flags.json ? "json" : flags.format ?? "human";
  const out = this.output(flags);
  const heapDir = flags.heapDir ?? HEAP_DIR;
  // The paths the user gave are checked before the battery runs, not found wrong after it.
  if (flags.heapDir !== undefined) checkDirectory(flags.heapDir, "--heap-dir");
  using output = flags.output === undefined ? null : UserOutput.open(flags.output);
  const startedAt = new Date();
  const start = performance.now();
  const targets = smokeTargets({ heapDir, heaps: flags.heap ?? [] });
  const checks = smokeBattery({ targets, heapDir });
  // TAP, KTAP and LAVA on stdout are streamed: the plan is known before the first check, and a lab runner
  // then sees each result as it happens, and everything up to the check that hung when a board hangs in the
  // kernel.
  const streamed = output === null && (format === "tap" || format === "ktap" || format === "lava");
  const ktap = streamed && format === "ktap" ? new KtapStream(checks, ktapDialect(Deno.osRelease())) : null;
  const lava = streamed && format === "lava" ? new LavaStream() : null;
  const stdout = this.io.stdout;
  if (streamed && format === "tap") stdout.write(tapHeader(checks.length));
  if (ktap !== null) stdout.write(ktap.header());
  // A streamed report is its own progress; a progress line on stderr would land in the middle of its lines
  // where both go to one terminal (a lab's serial console).
  const results = runAll.call(this, checks, {
    progress: !streamed,
    done: (result, index) => {
      if (streamed && format === "tap") stdout.write(tapResult(result, index + 1));
      if (ktap !== null) stdout.write(ktap.result(result));
      if (lava !== null) stdout.write(lava.result(result));
    },
  });
  if (ktap !== null) stdout.write(ktap.end());
  if (lava !== null) stdout.write(lava.end());
  const report: Report = {
    suite: SMOKE_SUITE,
    kernel: Deno.osRelease(),
    hostname: hostname(),
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - start,
    results,
  };
  const summary = summarize(results);
  if (output === null) {
    if (!streamed) {
      this.io.stdout.write(renderReport(report, format, { color: out.color && format === "human" }));
    }
  } else {
    output.write(renderReport(report, format));
    out.note(
      `dmabuf: smoke: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped; ` +
        `${format} report written to ${output.path}`,
    );
  }
  if (summary.failed > 0) throw new Exit(ExitCode.FAILURE);
}
