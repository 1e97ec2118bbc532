/**
 * What `dmabuf bench` measures and reports: the measurements, their goals, one heap and size's plan, and the
 * shapes of the report (`--json`).
 * @module
 */

import type { Pattern } from "../../ffi/pattern.ts";
import type { SmokeTarget } from "../smoke/targets.ts";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const NS_PER_MS = 1e6;
export const NS_PER_S = 1e9;

/** The goals of the issue: latency ratio at most 1.2, bandwidth ratio at least 0.9. */
export const GOALS = { latencyMaxRatio: 1.2, bandwidthMinRatio: 0.9 } as const;

/** The measurements, in report order. */
export const MEASUREMENTS = [
  { name: "allocClose", kind: "latency", label: "alloc+close" },
  { name: "fill", kind: "bandwidth", label: "mmap+fill" },
  { name: "verify", kind: "bandwidth", label: "mmap+verify" },
  { name: "sync", kind: "latency", label: "DMA_BUF_IOCTL_SYNC" },
  { name: "exportSyncFile", kind: "latency", label: "EXPORT_SYNC_FILE+close" },
] as const;

/** A measurement's name. */
export type MeasurementName = typeof MEASUREMENTS[number]["name"];

/** Statistics of one side of a measurement. */
export interface SideStats {
  /** Number of samples. */
  samples: number;
  /** Median time per operation, ns. */
  medianNs: number;
  /** 99th percentile (nearest rank) time per operation, ns. */
  p99Ns: number;
  /** Bandwidth from the median time, MiB/s; null for latency measurements. */
  mibPerSecond: number | null;
}

/** One side's outcome: statistics, or the errno/message of the operation that failed. */
export type Side = { stats: SideStats; error: null } | { stats: null; error: string };

/** One measurement of one heap and size. */
export interface MeasurementResult {
  /** Stable name, e.g. `allocClose`. */
  name: MeasurementName;
  /** `latency` (lower is better) or `bandwidth` (higher is better). */
  kind: "latency" | "bandwidth";
  /** Deno's numbers. */
  deno: Side;
  /** The C reference's numbers, with {@link REFERENCE_IDLE_THREADS} idle threads; null when it did not run. */
  c: Side | null;
  /** The C reference run single-threaded (the kernel's cost without a shared fd table); null when not run. */
  cSingleThread: Side | null;
  /** Deno/C: median time ratio for latency, MiB/s ratio for bandwidth; null without both sides. */
  ratio: number | null;
  /** Whether the ratio meets the goal; null without a ratio. */
  goalMet: boolean | null;
}

/** All measurements of one heap and size. */
export interface BenchCase {
  /** Heap name or `udmabuf`. */
  heap: string;
  /** Buffer size measured (page-aligned, capped by what the heap can give). */
  size: number;
  /** The size asked for. */
  requestedSize: number;
  /** Latency samples per measurement. */
  iterations: number;
  /** Passes per bandwidth measurement. */
  bandwidthIterations: number;
  /** The measurements; empty when the heap could not be used. */
  measurements: MeasurementResult[];
  /** Why the heap could not be measured at all, or null. */
  error: string | null;
}

/** What `dmabuf bench --json` prints. */
export interface BenchReport {
  /** `uname -r`. */
  kernel: string;
  /** CPU architecture. */
  arch: string;
  /** ISO 8601 start time. */
  startedAt: string;
  /** Latency samples per measurement. */
  iterations: number;
  /** Operations per latency sample for SYNC and EXPORT_SYNC_FILE. */
  latencyBatch: number;
  /** The fill/verify pattern. */
  pattern: string;
  /** The smallest step `performance.now()` was seen to take, ns (a jiffies clock shows 1–10 ms). */
  clockResolutionNs: number;
  /** The goals the ratios are checked against. */
  goals: typeof GOALS;
  /** The C reference. */
  reference: ReferenceInfo;
  /** One entry per heap and size. */
  cases: BenchCase[];
  /**
   * Measurements left out of every case because the kernel lacks the operation (before 6.0:
   * `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` answers ENOTTY), each with the reason.
   */
  notMeasured: { name: MeasurementName; reason: string }[];
}

/** The C reference program: where it is, how it was built, or why it is missing. */
export interface ReferenceInfo {
  /** Whether it ran. */
  available: boolean;
  /** The cached binary, or null. */
  binary: string | null;
  /** `gcc --version`'s first line, or null. */
  compiler: string | null;
  /** Compiler flags. */
  cflags: string;
  /** Idle threads started for the run the ratios are taken against. */
  idleThreads: number;
  /** Why it is not available (gcc missing, compile error, --no-reference), or null. */
  reason: string | null;
}

/** One heap and size to measure, with the rounds and pattern of every measurement. */
export interface Plan {
  target: SmokeTarget;
  size: number;
  requestedSize: number;
  iterations: number;
  bandwidthIterations: number;
  warmup: number;
  pattern: Pattern;
}
