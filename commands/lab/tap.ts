/**
 * TAP version 13 of a smoke run (testanything.org/tap-version-13-specification), whole or streamed: the
 * version line and the plan first, then one line per check as it finishes.
 * @module
 */

import { type CheckResult, type Detail, MS_PER_SECOND, type Report } from "./report.ts";
import { oneLine } from "./names.ts";

/** A TAP description: one line, `#` escaped (it would start a directive) and no leading digit confusion. */
function tapDescription(text: string): string {
  return oneLine(text).replaceAll("\\", "\\\\").replaceAll("#", "\\#");
}

/**
 * A YAML scalar: JSON strings are valid YAML 1.2 double-quoted scalars (every JSON escape is a YAML escape),
 * numbers, booleans and null are the same in both.
 */
function yamlScalar(value: Detail): string {
  return JSON.stringify(value);
}

/** A YAML mapping key: plain when it is a simple identifier, quoted otherwise. */
function yamlKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
}

/**
 * TAP version 13 (testanything.org/tap-version-13-specification): version line, plan `1..N`, one
 * `ok N - ...` / `not ok N - ...` per check, `# SKIP reason` directives, and a YAML block (`  ---` ... `  ...`)
 * with the failure message and details under failed checks.
 */
export function renderTap(report: Report): string {
  return tapHeader(report.results.length) +
    report.results.map((result, index) => tapResult(result, index + 1)).join("");
}

/** The version line and the plan of a TAP 13 stream of `count` checks (known before any runs). */
export function tapHeader(count: number): string {
  // A plan of 1..0 means "skipped entirely"; say why.
  return `TAP version 13\n${count === 0 ? "1..0 # SKIP no checks to run" : `1..${count}`}\n`;
}

/** The test line of check `number` (1-based), with its YAML block when it failed; ends with a newline. */
export function tapResult(result: CheckResult, number: number): string {
  const description = `${result.group}: ${result.name}`;
  if (result.status === "skip") {
    return `ok ${number} - ${tapDescription(description)} # SKIP ${tapDescription(result.reason ?? "")}\n`;
  }
  const lines = [`${result.status === "pass" ? "ok" : "not ok"} ${number} - ${tapDescription(description)}`];
  if (result.status === "fail") {
    lines.push("  ---");
    lines.push(`  message: ${yamlScalar(result.reason ?? "failed")}`);
    lines.push(`  id: ${yamlScalar(result.id)}`);
    lines.push(`  duration_ms: ${yamlScalar(roundMs(result.durationMs))}`);
    const entries = Object.entries(result.details);
    if (entries.length > 0) {
      lines.push("  data:");
      for (const [key, value] of entries) lines.push(`    ${yamlKey(key)}: ${yamlScalar(value)}`);
    }
    lines.push("  ...");
  }
  return lines.join("\n") + "\n";
}

function roundMs(ms: number): number {
  return Math.round(ms * MS_PER_SECOND) / MS_PER_SECOND;
}
