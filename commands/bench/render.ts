/**
 * The report of `dmabuf bench`: ratios rounded away from the goal, durations, the table rows and markdown.
 * @module
 */

import { formatBytes } from "../toolkit/units.ts";

import { type BenchReport, GOALS, type MeasurementResult, MEASUREMENTS, type Side } from "./model.ts";

/**
 * A ratio to two decimals, rounded away from the goal (up for latency, down for bandwidth), so a shown ratio
 * never looks like it meets a goal that it misses (0.899 shows as 0.89, not 0.90).
 */
export function formatRatio(kind: "latency" | "bandwidth", ratio: number): string {
  const hundredths = kind === "latency" ? Math.ceil(ratio * 100 - 1e-9) : Math.floor(ratio * 100 + 1e-9);
  return `${(hundredths / 100).toFixed(2)}x`;
}

/** A duration for the report: ns, us or ms with 2–3 significant digits. */
export function formatNs(ns: number): string {
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(ns < 1e4 ? 2 : 1)} us`;
  return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
}

/** One side's cell: MiB/s for bandwidth, median and p99 for latency, or the error. */
export function formatSide(side: Side | null, kind: "latency" | "bandwidth"): string {
  if (side === null) return "-";
  if (side.stats === null) return `error: ${side.error}`;
  if (kind === "bandwidth") return `${side.stats.mibPerSecond!.toFixed(0)} MiB/s`;
  return `${formatNs(side.stats.medianNs)} (p99 ${formatNs(side.stats.p99Ns)})`;
}

/** `met (<= 1.2)`, `MISSED (>= 0.9)`, or `- (...)` without a ratio. */
export function goalText(m: Pick<MeasurementResult, "kind" | "goalMet">): string {
  const goal = m.kind === "latency" ? `<= ${GOALS.latencyMaxRatio}` : `>= ${GOALS.bandwidthMinRatio}`;
  if (m.goalMet === null) return `- (${goal})`;
  return `${m.goalMet ? "met" : "MISSED"} (${goal})`;
}

/** Rows of the report table: heap, size, measurement, Deno, C, ratio, goal. */
export function benchRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  for (const c of report.cases) {
    if (c.error !== null) {
      rows.push([c.heap, formatBytes(c.size), "-", `error: ${c.error}`, "-", "-", "-", "-"]);
      continue;
    }
    for (const m of c.measurements) {
      const label = MEASUREMENTS.find((d) => d.name === m.name)!.label;
      rows.push([
        c.heap,
        formatBytes(c.size),
        label,
        formatSide(m.deno, m.kind),
        formatSide(m.c, m.kind),
        formatSide(m.cSingleThread, m.kind),
        m.ratio === null ? "-" : formatRatio(m.kind, m.ratio),
        goalText(m),
      ]);
    }
  }
  return rows;
}

/** The column headers of {@link benchRows}. */
export const BENCH_HEADERS = [
  "HEAP",
  "SIZE",
  "MEASUREMENT",
  "DENO",
  "C",
  "C 1-THREAD",
  "DENO/C",
  "GOAL",
] as const;

/** The report as markdown (for `deno task bench`'s report.md). */
export function renderBenchMarkdown(report: BenchReport): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const ref = report.reference;
  const lines = [
    `# dmabuf bench on Linux ${report.kernel} (${report.arch})`,
    "",
    `- started: ${report.startedAt}`,
    `- iterations: ${report.iterations} latency samples per measurement; SYNC and EXPORT_SYNC_FILE samples ` +
    `time batches of ${report.latencyBatch} ioctls`,
    `- fill/verify pattern: ${report.pattern}`,
    `- clock resolution: ${formatNs(report.clockResolutionNs)}`,
    `- C reference: ${
      ref.available
        ? `${ref.compiler} ${ref.cflags}; C is run with ${ref.idleThreads} idle thread(s), as Deno is ` +
          "multithreaded, and again single-threaded (C 1-THREAD)"
        : `not run: ${ref.reason}`
    }`,
    `- goals: latency Deno/C <= ${report.goals.latencyMaxRatio} (median), bandwidth Deno/C >= ` +
    `${report.goals.bandwidthMinRatio} (MiB/s from the median pass)`,
    "",
    `| ${BENCH_HEADERS.join(" | ")} |`,
    `|${BENCH_HEADERS.map(() => "---").join("|")}|`,
    ...benchRows(report).map((row) => `| ${row.map(escape).join(" | ")} |`),
    "",
  ];
  return lines.join("\n");
}
