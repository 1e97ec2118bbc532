/**
 * Renders a test battery's results (`dmabuf smoke`) for people and for lab runners: human text, TAP 13,
 * JUnit XML and JSON here, KTAP 1 and LAVA signals in `commands/lab/`. Pure functions of a {@link Report};
 * nothing here touches the kernel.
 * @module
 */

import type { ReportFormat } from "../toolkit/flags.ts";
import { renderKtap } from "../lab/ktap.ts";
import { renderLava } from "../lab/lava.ts";

/** The outcome of one check. */
export type CheckStatus = "pass" | "fail" | "skip";

/** A scalar detail of a check, shown as TAP YAML diagnostics, JUnit text and JSON fields. */
export type Detail = string | number | boolean | null;

/** One check's result. */
export interface CheckResult {
  /** Stable identifier, e.g. `system/alloc-4KiB`. */
  id: string;
  /** What was checked (the heap it ran on), e.g. `system`; `battery` for whole-run checks. */
  group: string;
  /** What the check does, in words, e.g. `allocate 4 KiB`. */
  name: string;
  /** Passed, failed, or skipped. */
  status: CheckStatus;
  /** Why it failed or was skipped (one line); null when it passed. */
  reason: string | null;
  /** Measured values and errno names, e.g. `{ expected: "EINVAL", actual: "ENOMEM" }`. */
  details: Record<string, Detail>;
  /** How long the check took, in milliseconds. */
  durationMs: number;
}

/** The whole run. */
export interface Report {
  /** What ran, e.g. `dmabuf smoke`. */
  suite: string;
  /** `uname -r` of the kernel under test. */
  kernel: string;
  /** The machine's name (JUnit `hostname`). */
  hostname: string;
  /** ISO 8601 start time. */
  startedAt: string;
  /** Wall time of the run in milliseconds. */
  durationMs: number;
  /** Every check in the order it ran. */
  results: CheckResult[];
}

/** Counts of a report's results. */
export interface Summary {
  /** All checks. */
  total: number;
  /** Checks that passed. */
  passed: number;
  /** Checks that failed. */
  failed: number;
  /** Checks skipped for a missing feature. */
  skipped: number;
}

/** Counts passed, failed and skipped checks. */
export function summarize(results: readonly CheckResult[]): Summary {
  const count = (status: CheckStatus) => results.filter((r) => r.status === status).length;
  return { total: results.length, passed: count("pass"), failed: count("fail"), skipped: count("skip") };
}

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

const ANSI_RESET = "\x1b[0m";
const STATUS_STYLE: Record<CheckStatus, { word: string; ansi: string }> = {
  pass: { word: "ok", ansi: "\x1b[32m" },
  fail: { word: "FAIL", ansi: "\x1b[1;31m" },
  skip: { word: "skip", ansi: "\x1b[33m" },
};
const STATUS_WIDTH = 4;
const MS_PER_S = 1000;

/** One line per check, grouped by heap, then the counts; failures repeat at the end so they are not missed. */
export function renderHuman(report: Report, color = false): string {
  const lines = [`${report.suite} on Linux ${report.kernel}`];
  const style = (status: CheckStatus) => {
    const { word, ansi } = STATUS_STYLE[status];
    const padded = word.padEnd(STATUS_WIDTH);
    return color ? `${ansi}${padded}${ANSI_RESET}` : padded;
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
      `(${(report.durationMs / MS_PER_S).toFixed(2)} s)`,
  );
  return lines.join("\n") + "\n";
}

/** Newlines and other control characters as visible escapes, so one result stays one line. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return " ";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

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
  return Math.round(ms * MS_PER_S) / MS_PER_S;
}

/**
 * Text made safe for XML 1.0 character data and attribute values: the five markup characters as entities,
 * TAB/LF/CR as character references (attribute normalisation would turn them into spaces), and characters
 * XML 1.0 cannot carry at all (other C0 controls, lone surrogates, U+FFFE, U+FFFF) as visible `\uXXXX` text.
 */
export function escapeXml(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
      out += visibleEscape(code);
      continue;
    }
    switch (text[i]) {
      case "&":
        out += "&amp;";
        break;
      case "<":
        out += "&lt;";
        break;
      case ">":
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case "'":
        out += "&apos;";
        break;
      case "\t":
        out += "&#9;";
        break;
      case "\n":
        out += "&#10;";
        break;
      case "\r":
        out += "&#13;";
        break;
      default:
        out += isXmlChar(code) ? text[i] : visibleEscape(code);
    }
  }
  return out;
}

/** Whether a UTF-16 code unit (not a surrogate) is an XML 1.0 `Char`. */
function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x9 || code === 0xa || code === 0xd;
  if (code >= 0xdc00 && code <= 0xdfff) return false;
  return code !== 0xfffe && code !== 0xffff;
}

function visibleEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

function seconds(ms: number): string {
  return (ms / MS_PER_S).toFixed(3);
}

/**
 * JUnit XML as Jenkins, GitLab and most lab runners read it: `<testsuites>` with one `<testsuite>` per group
 * (heap), one `<testcase>` per check, `<failure message type>` with the details as text, `<skipped message>`.
 */
export function renderJunit(report: Report): string {
  const summary = summarize(report.results);
  const attr = (name: string, value: string | number) => `${name}="${escapeXml(String(value))}"`;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites ${attr("name", report.suite)} ${attr("tests", summary.total)} ${
      attr("failures", summary.failed)
    } ` +
    `${attr("errors", 0)} ${attr("skipped", summary.skipped)} ${attr("time", seconds(report.durationMs))}>`,
  ];
  const groups = [...new Set(report.results.map((r) => r.group))];
  for (const group of groups) {
    const results = report.results.filter((r) => r.group === group);
    const counts = summarize(results);
    const time = results.reduce((sum, r) => sum + r.durationMs, 0);
    lines.push(
      `  <testsuite ${attr("name", group)} ${attr("tests", counts.total)} ${
        attr("failures", counts.failed)
      } ` +
        `${attr("errors", 0)} ${attr("skipped", counts.skipped)} ${attr("time", seconds(time))} ` +
        `${attr("timestamp", report.startedAt)} ${attr("hostname", report.hostname)}>`,
      `    <properties>`,
      `      <property ${attr("name", "kernel")} ${attr("value", report.kernel)}/>`,
      `    </properties>`,
    );
    for (const result of results) {
      const open =
        `    <testcase ${attr("classname", `${report.suite}.${group}`)} ${attr("name", result.name)} ` +
        `${attr("time", seconds(result.durationMs))}`;
      if (result.status === "pass") {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (result.status === "skip") {
        lines.push(`      <skipped ${attr("message", result.reason ?? "")}/>`);
      } else {
        const type = typeof result.details.actual === "string" ? result.details.actual : "failure";
        const body = [
          `id: ${result.id}`,
          ...Object.entries(result.details).map(([k, v]) => `${k}: ${String(v)}`),
        ];
        lines.push(
          `      <failure ${attr("message", result.reason ?? "failed")} ${attr("type", type)}>` +
            `${escapeXml(body.join("\n"))}</failure>`,
        );
      }
      lines.push(`    </testcase>`);
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`);
  return lines.join("\n") + "\n";
}
