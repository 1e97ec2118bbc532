/**
 * Renders a smoke run for people and for lab runners: human text and JSON here, TAP 13, JUnit XML, KTAP 1 and
 * LAVA signals from `commands/lab/`, which holds the lab formats side by side. Pure functions of a
 * {@link Report}; nothing here touches the kernel.
 * @module
 */

import type { ReportFormat } from "../toolkit/flags.ts";
import { paint, type Style } from "../toolkit/color.ts";
import { type CheckStatus, MS_PER_SECOND, type Report, summarize } from "../lab/report.ts";
import { oneLine } from "../lab/names.ts";
import { renderTap } from "../lab/tap.ts";
import { renderJunit } from "../lab/junit.ts";
import { renderKtap } from "../lab/ktap.ts";
import { renderLava } from "../lab/lava.ts";

/** Options of {@link renderReport}. */
export interface RenderOptions {
  /** Colour the human format's status words (ANSI); ignored by the other formats. */
  color?: boolean;
}

/** Renders `report` in `format`; the text ends with a newline. */
export function renderReport(report: Report, format: ReportFormat, options: RenderOptions = {}): string {
  switch (format) {
    case "human":
      return renderHuman(report, options.color ?? false);
    case "tap":
      return renderTap(report);
    case "junit":
      return renderJunit(report);
    case "json":
      return renderJson(report);
    case "ktap":
      return renderKtap(report);
    case "lava":
      return renderLava(report);
  }
}

/** The JSON document: the report plus its summary. */
export function renderJson(report: Report): string {
  return JSON.stringify({ ...report, summary: summarize(report.results) }, null, 2) + "\n";
}

const STATUS_STYLE: Record<CheckStatus, { word: string; styles: readonly Style[] }> = {
  pass: { word: "ok", styles: ["green"] },
  fail: { word: "FAIL", styles: ["bold", "red"] },
  skip: { word: "skip", styles: ["yellow"] },
};
const STATUS_WIDTH = 4;

/** One line per check, grouped by heap, then the counts; failures repeat at the end so they are not missed. */
export function renderHuman(report: Report, color = false): string {
  const lines = [`${report.suite} on Linux ${report.kernel}`];
  const style = (status: CheckStatus) => {
    const { word, styles } = STATUS_STYLE[status];
    return paint(color, word.padEnd(STATUS_WIDTH), ...styles);
  };
  let group: string | undefined;
  for (const result of report.results) {
    if (result.group !== group) {
      group = result.group;
      lines.push("", `${group}:`);
    }
    const reason = result.reason === null ? "" : `: ${oneLine(result.reason)}`;
    lines.push(`  ${style(result.status)}  ${oneLine(result.name)}${reason}`);
  }
  const summary = summarize(report.results);
  const failures = report.results.filter((r) => r.status === "fail");
  if (failures.length > 0) {
    lines.push("", "Failed:");
    for (const f of failures) {
      lines.push(`  ${f.group}: ${oneLine(f.name)}: ${oneLine(f.reason ?? "failed")}`);
    }
  }
  lines.push(
    "",
    `${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped ` +
      `(${(report.durationMs / MS_PER_SECOND).toFixed(2)} s)`,
  );
  return lines.join("\n") + "\n";
}
