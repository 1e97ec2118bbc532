/**
 * `dmabuf doctor`'s report: a checklist by section for people (each line a verdict, the check's id and what
 * was seen; under a verdict that is not `ok`, the detail and the fix), or the `--json` document
 * `{ kernel, machine, pageSize, uid, request, checks: [{ id, status, summary, detail, fix, section, title,
 * data }], counts }`.
 * @module
 */

import type { Output } from "../toolkit/output.ts";
import { formatBytes } from "../toolkit/units.ts";
import type { Facts } from "./facts.ts";
import { userText } from "./model.ts";
import { countStatuses, type DoctorResult, SECTIONS, type Status } from "./runner.ts";

/** The `--json` document. */
export interface DoctorReport {
  /** `uname -r`. */
  kernel: string;
  /** The machine. */
  machine: string;
  /** The kernel's page size in bytes. */
  pageSize: number;
  /** The effective uid doctor ran as. */
  uid: number;
  /** `--heap` as given, the heap it named (`cma` resolved), and `--size`; each null when not given. */
  request: Facts["request"];
  /** Every check's result, in run order. */
  checks: DoctorResult[];
  /** How many checks have each status. */
  counts: Record<Status, number>;
}

/** The `--json` document of a run. */
export function doctorReport(facts: Facts, results: DoctorResult[]): DoctorReport {
  return {
    kernel: facts.kernel.release,
    machine: facts.kernel.machine,
    pageSize: facts.kernel.pageSize,
    uid: facts.user.uid,
    request: facts.request,
    checks: results,
    counts: countStatuses(results),
  };
}

/** The width of the status column (`fail`, `warn`, `skip`, `ok`). */
const STATUS_WIDTH = 4;
/** Indent of the lines under a check. */
const INDENT = " ".repeat(2 + STATUS_WIDTH + 2);

function paint(out: Output, status: Status): string {
  const text = status.padEnd(STATUS_WIDTH);
  switch (status) {
    case "ok":
      return out.paint(text, "green");
    case "warn":
      return out.paint(text, "yellow");
    case "fail":
      return out.paint(text, "red");
    case "skip":
      return out.paint(text, "dim");
  }
}

/** `4 KiB` → `4 KiB pages`. */
function pages(bytes: number): string {
  return `${formatBytes(bytes)} pages`;
}

/** Writes the human report: a heading, each section's checks, and the counts. */
export function renderDoctor(out: Output, facts: Facts, results: readonly DoctorResult[]): void {
  const { kernel } = facts;
  out.line(
    out.paint(
      `dmabuf doctor: Linux ${kernel.release} ${kernel.machine}, ${pages(kernel.pageSize)}, uid ${
        userText(facts, facts.user.uid)
      }`,
      "bold",
    ),
  );
  const { heap, resolvedHeap } = facts.request;
  if (heap !== null && resolvedHeap !== null && heap !== resolvedHeap) {
    out.line(`--heap ${heap} is ${resolvedHeap}`);
  }
  const width = Math.max(...results.map((r) => r.id.length));
  for (const [section, heading] of Object.entries(SECTIONS)) {
    const mine = results.filter((r) => r.section === section);
    if (mine.length === 0) continue;
    out.line();
    out.line(out.paint(heading, "bold"));
    for (const result of mine) {
      out.line(`  ${paint(out, result.status)}  ${result.id.padEnd(width)}  ${result.summary}`);
      const explain = result.status !== "ok" || out.verbose;
      if (explain && result.detail !== null) out.line(`${INDENT}${out.paint(result.detail, "dim")}`);
      if (result.fix !== null) out.line(`${INDENT}fix: ${result.fix}`);
    }
  }
  const counts = countStatuses(results);
  out.line();
  out.line(`${counts.ok} ok, ${counts.warn} warn, ${counts.fail} fail, ${counts.skip} skip`);
}
