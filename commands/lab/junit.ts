/**
 * JUnit XML of a smoke run, as Jenkins, GitLab and most lab runners read it, and the XML 1.0 escaping it needs.
 * @module
 */

import { MS_PER_SECOND, type Report, summarize } from "./report.ts";

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
  return (ms / MS_PER_SECOND).toFixed(3);
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
