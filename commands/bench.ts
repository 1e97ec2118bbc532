/**
 * `dmabuf bench`: per heap and size, alloc+close latency, mmap+fill and mmap+verify bandwidth, SYNC ioctl
 * latency and EXPORT_SYNC_FILE latency — measured here and by a small C program doing the same operations
 * (tests/bench/dmabuf_ref.c, compiled with gcc into the user's cache at bench time), so every number comes
 * with its Deno/C ratio and whether the project's goal is met (ioctl-bound latency ≤ 1.2× C, fill/verify
 * bandwidth ≥ 0.9× C).
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, Exit, ExitCode, UsageError } from "./toolkit/errors.ts";
import { formatBytes } from "./toolkit/output.ts";
import type { DmaBuf } from "../ffi/dma_buf.ts";
import { DmaHeap, HEAP_DIR } from "../ffi/dma_heap.ts";
import { SyscallError } from "../ffi/errno.ts";
import { DmaBufSyncFlags } from "../ffi/ioctl.ts";
import { Mapping } from "../ffi/mapping.ts";
import { formatPattern, type Pattern } from "../ffi/pattern.ts";
import { allocUdmabuf, pageAlign } from "../ffi/udmabuf.ts";
import { type SmokeTarget, smokeTargets } from "./smoke_checks.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

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
/** Bandwidth passes are capped so that each measurement moves at most this much (at least 3 passes). */
const BANDWIDTH_BYTES = 256 * MiB;
const MIN_BANDWIDTH_ITERATIONS = 3;
/** Untimed rounds before the latency samples (caches); bandwidth gets one. */
const WARMUP_ROUNDS = 10;
/**
 * Deno's warm-up also lasts at least this long: V8 optimises a function only after it has run for a while,
 * and without it SYNC on the first heap measured took about 2.5x as long as on the later ones (under TCG).
 */
const WARMUP_MS = 200;
/**
 * ioctls per latency sample for SYNC and EXPORT_SYNC_FILE: one ioctl takes about as long as reading the clock
 * twice, so each sample times a batch and divides (C does the same). Even, so SYNC START/END stay paired.
 */
export const LATENCY_BATCH = 32;
/** Compiler flags of the C reference. */
const REFERENCE_CFLAGS = ["-O2", "-pthread"] as const;
/**
 * Sleeping threads the C reference starts for the run its ratio is taken against. Deno is always
 * multithreaded, so its fd table is shared and each fd syscall takes and drops a file reference, which a
 * single-threaded process skips (__fget_light): about 60 ns per ioctl measured on an x86_64 host. With one
 * idle thread the C reference pays the same, and the ratio shows the cost of Deno's FFI and JavaScript; the
 * single-threaded run is reported beside it.
 */
export const REFERENCE_IDLE_THREADS = 1;
const REFERENCE_SOURCE = new URL("../tests/bench/dmabuf_ref.c", import.meta.url);
/** Characters of the source hash in the cached binary's name. */
const HASH_CHARS = 12;

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
}

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

/** Passes per bandwidth measurement: `iterations`, capped at {@link BANDWIDTH_BYTES} moved, at least 3. */
export function bandwidthIterations(iterations: number, size: number): number {
  return Math.min(iterations, Math.max(MIN_BANDWIDTH_ITERATIONS, Math.floor(BANDWIDTH_BYTES / size)));
}

// ---------------------------------------------------------------------------------------------------------
// Deno measurements: the same operations as dmabuf_ref.c, in the same order.

interface Plan {
  target: SmokeTarget;
  size: number;
  requestedSize: number;
  iterations: number;
  bandwidthIterations: number;
  warmup: number;
  pattern: Pattern;
}

function nowNs(): number {
  return performance.now() * NS_PER_MS;
}

/** Latencies below this clock step are not measurable: the report warns. */
const COARSE_CLOCK_NS = 1e5;
const CLOCK_PROBES = 5;

/** The smallest step of the clock over a few probes. */
export function clockResolutionNs(): number {
  let best = Infinity;
  for (let i = 0; i < CLOCK_PROBES; i++) {
    const start = nowNs();
    let next = nowNs();
    while (next === start) next = nowNs();
    best = Math.min(best, next - start);
  }
  return best;
}

function errorText(error: unknown): string {
  if (error instanceof SyscallError) return error.code;
  return error instanceof Error ? error.message.split("\n", 1)[0]! : String(error);
}

/** Runs `measure` and turns a thrown error into a failed side. */
function side(measure: () => number[], bytes: number | null): Side {
  try {
    return { stats: sideStats(measure(), bytes), error: null };
  } catch (error) {
    return { stats: null, error: errorText(error) };
  }
}

/** An allocator for the target: the heap fd stays open for all allocations, as in C. */
function allocator(plan: Plan): { alloc: () => DmaBuf } & Disposable {
  if (plan.target.kind === "udmabuf") {
    return { alloc: () => allocUdmabuf(plan.size, "dmabuf-bench"), [Symbol.dispose]: () => {} };
  }
  const heap = DmaHeap.open(plan.target.name, plan.target.dir);
  return { alloc: () => heap.alloc(plan.size), [Symbol.dispose]: () => heap[Symbol.dispose]() };
}

/** Runs `round` untimed `rounds` times and for at least {@link WARMUP_MS}, so V8 has optimised it. */
function warmUp(rounds: number, round: () => void): void {
  const until = performance.now() + WARMUP_MS;
  for (let i = 0; i < rounds || performance.now() < until; i++) round();
}

/** `samples` timings of `round` in ns, after the warm-up; `perRound` operations per round. */
export function timeRounds(
  warmupRounds: number,
  samples: number,
  perRound: number,
  round: () => void,
): number[] {
  warmUp(warmupRounds, round);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = nowNs();
    round();
    const end = nowNs();
    out.push((end - start) / perRound);
  }
  return out;
}

function measureAllocClose(plan: Plan, alloc: () => DmaBuf): number[] {
  return timeRounds(plan.warmup, plan.iterations, 1, () => alloc().close());
}

/** One timed pass. try/finally rather than `using`: the transpiled `using` costs about 0.3 us a scope. */
function bandwidthPass(buf: DmaBuf, plan: Plan, write: boolean): void {
  const map = Mapping.map(buf.file, plan.size, { write });
  try {
    const cpu = buf.beginCpuAccess(write ? "write" : "read");
    try {
      if (write) {
        map.fill(plan.pattern);
      } else {
        const mismatch = map.verify(plan.pattern);
        if (mismatch !== null) {
          throw new Error(`verify found 0x${mismatch.actual[0]?.toString(16)} at offset ${mismatch.offset}`);
        }
      }
    } finally {
      cpu.end();
    }
  } finally {
    map[Symbol.dispose]();
  }
}

function measureBandwidth(plan: Plan, buf: DmaBuf, write: boolean): number[] {
  const warmup = plan.warmup > 0 ? 1 : 0;
  return timeRounds(warmup, plan.bandwidthIterations, 1, () => bandwidthPass(buf, plan, write));
}

const SYNC_START_RW = DmaBufSyncFlags.DMA_BUF_SYNC_RW | DmaBufSyncFlags.DMA_BUF_SYNC_START;
const SYNC_END_RW = DmaBufSyncFlags.DMA_BUF_SYNC_RW | DmaBufSyncFlags.DMA_BUF_SYNC_END;

function measureBatched(plan: Plan, op: (j: number) => void): number[] {
  return timeRounds(plan.warmup, plan.iterations, LATENCY_BATCH, () => {
    for (let j = 0; j < LATENCY_BATCH; j++) op(j);
  });
}

/** Deno's side of every measurement for one heap and size. */
function measureDeno(plan: Plan): Record<MeasurementName, Side> {
  using source = allocator(plan);
  const allocClose = side(() => measureAllocClose(plan, source.alloc), null);
  let buf: DmaBuf;
  try {
    buf = source.alloc();
  } catch (error) {
    const failed: Side = { stats: null, error: errorText(error) };
    return { allocClose, fill: failed, verify: failed, sync: failed, exportSyncFile: failed };
  }
  using owned = buf;
  return {
    allocClose,
    fill: side(() => measureBandwidth(plan, owned, true), plan.size),
    verify: side(() => measureBandwidth(plan, owned, false), plan.size),
    sync: side(
      () => measureBatched(plan, (j) => owned.syncRaw(j % 2 === 0 ? SYNC_START_RW : SYNC_END_RW)),
      null,
    ),
    exportSyncFile: side(() => measureBatched(plan, () => owned.exportSyncFile("write").close()), null),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The C reference.

/** The pattern as dmabuf_ref.c takes it. */
function referencePattern(pattern: Pattern): string {
  switch (pattern.kind) {
    case "zero":
      return "zero";
    case "byte":
      return `byte:${pattern.value}`;
    case "counter":
      return "counter";
    case "random":
      return `random:${pattern.seed}`;
  }
}

/** Where compiled references are cached: `${XDG_CACHE_HOME:-$HOME/.cache}/dmabuf`. */
export function cacheDir(env: (name: string) => string | undefined): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg}/dmabuf`;
  const home = env("HOME");
  if (home === undefined || home === "") {
    throw new CliError("Cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set");
  }
  return `${home}/.cache/dmabuf`;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function run(command: string, args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
}

/** A {@link ReferenceInfo}: available when `binary` is given, else not, for `reason`. */
function referenceInfo(
  binary: string | null,
  compiler: string | null,
  reason: string | null,
): ReferenceInfo {
  return {
    available: binary !== null,
    binary,
    compiler,
    cflags: REFERENCE_CFLAGS.join(" "),
    idleThreads: REFERENCE_IDLE_THREADS,
    reason,
  };
}

/**
 * Builds a C program of the project (the bench reference by default) with gcc into the cache, once per
 * source version, compiler and flags; or says why it cannot.
 */
export async function buildReference(
  env: (name: string) => string | undefined,
  sourceUrl: URL = REFERENCE_SOURCE,
): Promise<ReferenceInfo> {
  const cflags = REFERENCE_CFLAGS.join(" ");
  let compiler: string;
  try {
    const version = await run("gcc", ["--version"]);
    compiler = new TextDecoder().decode(version.stdout).split("\n", 1)[0] ?? "gcc";
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return referenceInfo(null, null, "gcc not found: Deno numbers only");
    }
    throw error;
  }
  const source = Deno.readFileSync(sourceUrl);
  const hash = (await sha256Hex(new Uint8Array([...source, ...new TextEncoder().encode(cflags + compiler)])))
    .slice(0, HASH_CHARS);
  const dir = cacheDir(env);
  const name = sourceUrl.pathname.slice(sourceUrl.pathname.lastIndexOf("/") + 1).replace(/\.c$/, "");
  const binary = `${dir}/${name}-${hash}`;
  try {
    Deno.statSync(binary);
    return referenceInfo(binary, compiler, null);
  } catch {
    // Not built yet.
  }
  Deno.mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${Deno.pid}.tmp`;
  const result = await run("gcc", [...REFERENCE_CFLAGS, "-o", partial, sourceUrl.pathname]);
  if (!result.success) {
    const first = new TextDecoder().decode(result.stderr).split("\n").find((l) => l.includes("error")) ?? "";
    return referenceInfo(null, compiler, `gcc failed to build ${sourceUrl.pathname}: ${first.trim()}`);
  }
  Deno.renameSync(partial, binary);
  return referenceInfo(binary, compiler, null);
}

interface ReferenceOutput {
  measurements: Record<string, { samplesNs?: number[]; error?: string }>;
}

/** Runs the C reference for one heap and size, with `idleThreads` sleeping threads. */
async function measureC(
  binary: string,
  plan: Plan,
  idleThreads: number,
): Promise<Record<MeasurementName, Side>> {
  const result = await run(binary, [
    ...["--idle-threads", String(idleThreads)],
    ...["--kind", plan.target.kind, "--path", plan.target.path, "--size", String(plan.size)],
    ...["--iterations", String(plan.iterations), "--bandwidth-iterations", String(plan.bandwidthIterations)],
    ...["--batch", String(LATENCY_BATCH), "--warmup", String(plan.warmup)],
    ...["--pattern", referencePattern(plan.pattern)],
  ]);
  const sides = {} as Record<MeasurementName, Side>;
  if (!result.success) {
    const message = new TextDecoder().decode(result.stderr).trim().split("\n", 1)[0] || `exit ${result.code}`;
    for (const m of MEASUREMENTS) sides[m.name] = { stats: null, error: message };
    return sides;
  }
  const parsed = JSON.parse(new TextDecoder().decode(result.stdout)) as ReferenceOutput;
  for (const m of MEASUREMENTS) {
    const raw = parsed.measurements[m.name];
    sides[m.name] = raw?.samplesNs !== undefined
      ? { stats: sideStats(raw.samplesNs, m.kind === "bandwidth" ? plan.size : null), error: null }
      : { stats: null, error: raw?.error ?? "missing from the reference output" };
  }
  return sides;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

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

// ---------------------------------------------------------------------------------------------------------
// The command.

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
  const out = this.output(flags);
  const heapDir = flags.heapDir ?? HEAP_DIR;
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
    progress(`${plan.target.name} ${formatBytes(plan.size)}: C...`);
    const binary = reference.binary;
    const c = binary === null ? null : await measureC(binary, plan, REFERENCE_IDLE_THREADS);
    const single = binary === null ? null : await measureC(binary, plan, 0);
    const measurements = MEASUREMENTS.map((m): MeasurementResult => {
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
  if (out.json) {
    out.data(report);
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
  }
  const failed = report.cases.some((c) =>
    c.error !== null ||
    c.measurements.some((m) =>
      [m.deno, m.c, m.cSingleThread].some((side) => side !== null && side.error !== null)
    )
  );
  if (failed) {
    if (!out.json) out.note("dmabuf: some measurements failed: see the errors above");
    throw new Exit(ExitCode.FAILURE);
  }
}
