/**
 * `dmabuf bench`: per heap and size, alloc+close latency, mmap+fill and mmap+verify bandwidth, SYNC ioctl
 * latency and EXPORT_SYNC_FILE latency — measured here and by a small C program doing the same operations
 * (tests/bench/dmabuf_ref.c, compiled with gcc into the user's cache at bench time), so every number comes
 * with its Deno/C ratio and whether the project's goal is met (ioctl-bound latency ≤ 1.2× C, fill/verify
 * bandwidth ≥ 0.9× C).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError, Exit, ExitCode, UsageError } from "../toolkit/errors.ts";
import { formatBytes } from "../toolkit/units.ts";
import { checkDirectory } from "../toolkit/user_file.ts";
import { HEAP_DIR } from "../../ffi/dma_heap.ts";
import { formatPattern, type Pattern } from "../../ffi/pattern.ts";
import { pageAlign } from "../../ffi/page_size.ts";
import { type SmokeTarget, smokeTargets } from "../smoke/targets.ts";
import { buildReference, measureC, REFERENCE_IDLE_THREADS, referenceInfo } from "./c_reference.ts";
import {
  bandwidthIterations,
  clockResolutionNs,
  COARSE_CLOCK_NS,
  errorText,
  LATENCY_BATCH,
  measureDeno,
  WARMUP_ROUNDS,
} from "./deno_side.ts";
import {
  type BenchReport,
  GOALS,
  KiB,
  type MeasurementName,
  type MeasurementResult,
  MEASUREMENTS,
  MiB,
  type Plan,
  type Side,
} from "./model.ts";
import { BENCH_HEADERS, benchRows, formatNs } from "./render.ts";
import { renderBenchLava } from "../lab/lava.ts";
import { EXPORT_SYNC_FILE_MISSING } from "../fence/selection.ts";
import { compare } from "./stats.ts";

/** Sizes measured when `--sizes` is not given. */
export const DEFAULT_SIZES = [4 * KiB, 1 * MiB, 16 * MiB] as const;
/** Latency samples per measurement when `--iterations` is not given. */
export const DEFAULT_ITERATIONS = 200;
/**
 * The pattern filled and verified when `--pattern` is not given: one repeated byte, so fill and verify move
 * memory as memset/memcmp do and the figure is the mapping's bandwidth (cached vs uncached heaps, CMA vs
 * system). `counter` and `random:SEED` add per-word pattern arithmetic, which JavaScript does without the
 * SIMD that gcc uses in the C reference.
 */
export const DEFAULT_PATTERN: Pattern = { kind: "byte", value: 0xa5 };

/** Flags of `dmabuf bench`. */
export interface BenchFlags extends CommonFlags {
  /** Only these heaps (repeatable); `udmabuf` selects udmabuf. */
  readonly heap?: readonly string[];
  /** Directory of heap device nodes (default /dev/dma_heap). */
  readonly heapDir?: string;
  /** Latency samples per measurement. */
  readonly iterations: number;
  /** Buffer sizes. */
  readonly sizes?: readonly number[];
  /** Fill/verify pattern. */
  readonly pattern?: Pattern;
  /** Whether to build and run the C reference (`--no-reference` to skip it). */
  readonly reference: boolean;
  /** Output format; `json` is the same as `--json`, `lava` writes LAVA test signals. */
  readonly format?: "human" | "json" | "lava";
}

function plans(targets: readonly SmokeTarget[], sizes: readonly number[], flags: BenchFlags): Plan[] {
  const out: Plan[] = [];
  for (const target of targets) {
    const seen = new Set<number>();
    for (const requested of sizes) {
      const size = pageAlign(target.maxBytes === null ? requested : Math.min(requested, target.maxBytes));
      if (seen.has(size)) continue;
      seen.add(size);
      out.push({
        target,
        size,
        requestedSize: requested,
        iterations: flags.iterations,
        bandwidthIterations: bandwidthIterations(flags.iterations, size),
        warmup: Math.min(WARMUP_ROUNDS, flags.iterations),
        pattern: flags.pattern ?? DEFAULT_PATTERN,
      });
    }
  }
  return out;
}

/** Runs the benchmark. */
export async function bench(this: DmabufContext, flags: BenchFlags): Promise<void> {
  if (flags.json && flags.format !== undefined && flags.format !== "json") {
    throw new UsageError(`--json conflicts with --format ${flags.format}: give one of them`);
  }
  const format = flags.json ? "json" : flags.format ?? "human";
  const out = this.output({ ...flags, json: format === "json" });
  const heapDir = flags.heapDir ?? HEAP_DIR;
  if (flags.heapDir !== undefined) checkDirectory(flags.heapDir, "--heap-dir");
  const targets = smokeTargets({ heapDir, heaps: flags.heap ?? [] });
  if (targets.length === 0) {
    throw new CliError(`No heaps to measure: nothing in ${heapDir} and no /dev/udmabuf`);
  }
  const sizes = flags.sizes ?? DEFAULT_SIZES;
  if (sizes.length === 0) throw new UsageError("--sizes needs at least one size");
  const stderr = this.io.stderr;
  const progress = (text: string) => {
    if (stderr.isTerminal) stderr.write(`\r\x1b[K${text}`);
  };
  progress("building the C reference...");
  const reference = flags.reference
    ? await buildReference(this.io.env)
    : referenceInfo(null, null, "--no-reference");
  if (!reference.available) out.warn(`C reference not run: ${reference.reason}`);
  const report: BenchReport = {
    kernel: Deno.osRelease(),
    arch: Deno.build.arch,
    startedAt: new Date().toISOString(),
    iterations: flags.iterations,
    latencyBatch: LATENCY_BATCH,
    pattern: formatPattern(flags.pattern ?? DEFAULT_PATTERN),
    clockResolutionNs: clockResolutionNs(),
    goals: GOALS,
    reference,
    cases: [],
    notMeasured: [],
  };
  if (report.clockResolutionNs >= COARSE_CLOCK_NS) {
    out.warn(
      `the clock advances in steps of ${
        formatNs(report.clockResolutionNs)
      } (a jiffies clocksource?): latencies ` +
        "below that are not measurable here",
    );
  }
  const all = plans(targets, sizes, flags);
  if (all.length > 0) {
    // One untimed round of the first case first, so that V8 has optimised the shared code (the ioctl wrappers,
    // the mapping) before anything is timed: even with the 200 ms warm-up, the first case's SYNC took about
    // 3x as long as the same ioctl in later cases (under TCG).
    progress("warming up...");
    try {
      measureDeno(all[0]!);
    } catch {
      // The timed round reports any failure.
    }
  }
  for (const plan of all) {
    progress(`${plan.target.name} ${formatBytes(plan.size)}: Deno...`);
    const base = {
      heap: plan.target.name,
      size: plan.size,
      requestedSize: plan.requestedSize,
      iterations: plan.iterations,
      bandwidthIterations: plan.bandwidthIterations,
    };
    let deno: Record<MeasurementName, Side>;
    try {
      deno = measureDeno(plan);
    } catch (error) {
      report.cases.push({ ...base, measurements: [], error: errorText(error) });
      continue;
    }
    // A kernel without the ioctl has nothing to measure: the row is left out, and said why, once. ENOTTY from
    // EXPORT_SYNC_FILE means that only on a real dma-buf, one DMA_BUF_IOCTL_SYNC worked on (not a device
    // that is no heap at all, whose every ioctl answers ENOTTY).
    if (
      deno.exportSyncFile.error === "ENOTTY" && deno.sync.error === null &&
      !report.notMeasured.some((n) => n.name === "exportSyncFile")
    ) {
      report.notMeasured.push({ name: "exportSyncFile", reason: EXPORT_SYNC_FILE_MISSING });
    }
    progress(`${plan.target.name} ${formatBytes(plan.size)}: C...`);
    const binary = reference.binary;
    const c = binary === null ? null : await measureC(binary, plan, REFERENCE_IDLE_THREADS);
    const single = binary === null ? null : await measureC(binary, plan, 0);
    const measured = MEASUREMENTS.filter((m) => !report.notMeasured.some((n) => n.name === m.name));
    const measurements = measured.map((m): MeasurementResult => {
      const cSide = c === null ? null : c[m.name];
      return {
        name: m.name,
        kind: m.kind,
        deno: deno[m.name],
        c: cSide,
        cSingleThread: single === null ? null : single[m.name],
        ...compare(m.kind, deno[m.name], cSide),
      };
    });
    report.cases.push({ ...base, measurements, error: null });
  }
  progress("");
  if (stderr.isTerminal) stderr.write("\r\x1b[K");
  if (format === "json") {
    out.data(report);
  } else if (format === "lava") {
    this.io.stdout.write(renderBenchLava(report));
  } else {
    out.line(
      `dmabuf bench on Linux ${report.kernel} (${report.arch}), ${report.iterations} iterations, pattern ${report.pattern}`,
    );
    out.line(
      `C reference: ${reference.available ? `${reference.compiler} ${reference.cflags}` : reference.reason}`,
    );
    out.line();
    out.table(
      BENCH_HEADERS.map((header, i) => ({ header, cell: (row: string[]) => row[i]! })),
      benchRows(report),
    );
    for (const { name, reason } of report.notMeasured) {
      out.line(`${MEASUREMENTS.find((m) => m.name === name)!.label} not measured: ${reason}`);
    }
  }
  const failed = report.cases.some((c) =>
    c.error !== null ||
    c.measurements.some((m) =>
      [m.deno, m.c, m.cSingleThread].some((side) => side !== null && side.error !== null)
    )
  );
  if (failed) {
    // JSON and LAVA carry each failure themselves (an error field, a fail case).
    if (format === "human") out.note("dmabuf: some measurements failed: see the errors above");
    throw new Exit(ExitCode.FAILURE);
  }
}
