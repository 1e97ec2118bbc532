/**
 * The statistics of `dmabuf bench`: median, p99 and bandwidth of raw samples, and the Deno/C ratio against
 * the goal.
 * @module
 */

import { GOALS, MiB, NS_PER_S, type Side, type SideStats } from "./model.ts";

/** Median of sorted values (mean of the middle two for an even count). */
export function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile `p` (0–100] of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const P99 = 99;

/** Statistics of raw samples (ns per operation); bandwidth from the median when `bytes` is given. */
export function sideStats(samplesNs: readonly number[], bytes: number | null): SideStats {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const medianNs = median(sorted);
  return {
    samples: sorted.length,
    medianNs,
    p99Ns: percentile(sorted, P99),
    mibPerSecond: bytes === null ? null : (bytes / MiB) / (medianNs / NS_PER_S),
  };
}

/** The Deno/C ratio and whether it meets the goal. */
export function compare(
  kind: "latency" | "bandwidth",
  deno: Side,
  c: Side | null,
): { ratio: number | null; goalMet: boolean | null } {
  if (deno.stats === null || c === null || c.stats === null) return { ratio: null, goalMet: null };
  if (kind === "latency") {
    const ratio = deno.stats.medianNs / c.stats.medianNs;
    return { ratio, goalMet: ratio <= GOALS.latencyMaxRatio };
  }
  const ratio = deno.stats.mibPerSecond! / c.stats.mibPerSecond!;
  return { ratio, goalMet: ratio >= GOALS.bandwidthMinRatio };
}
