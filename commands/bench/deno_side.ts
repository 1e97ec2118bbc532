/**
 * Deno's side of `dmabuf bench`: the same operations as tests/bench/dmabuf_ref.c, in the same order, timed in
 * batches after a warm-up.
 * @module
 */

import type { DmaBuf } from "../../ffi/dma_buf.ts";
import { DmaHeap } from "../../ffi/dma_heap.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { DmaBufSyncFlags } from "../../ffi/ioctl.ts";
import { Mapping } from "../../ffi/mapping.ts";
import { allocUdmabuf } from "../../ffi/udmabuf.ts";

import { type MeasurementName, MiB, NS_PER_MS, type Plan, type Side } from "./model.ts";
import { sideStats } from "./stats.ts";

/** Bandwidth passes are capped so that each measurement moves at most this much (at least 3 passes). */
const BANDWIDTH_BYTES = 256 * MiB;
const MIN_BANDWIDTH_ITERATIONS = 3;
/** Untimed rounds before the latency samples (caches); bandwidth gets one. */
export const WARMUP_ROUNDS = 10;
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

/** Passes per bandwidth measurement: `iterations`, capped at {@link BANDWIDTH_BYTES} moved, at least 3. */
export function bandwidthIterations(iterations: number, size: number): number {
  return Math.min(iterations, Math.max(MIN_BANDWIDTH_ITERATIONS, Math.floor(BANDWIDTH_BYTES / size)));
}

export function nowNs(): number {
  return performance.now() * NS_PER_MS;
}

/** Latencies below this clock step are not measurable: the report warns. */
export const COARSE_CLOCK_NS = 1e5;
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

export function errorText(error: unknown): string {
  if (error instanceof SyscallError) return error.code;
  return error instanceof Error ? error.message.split("\n", 1)[0]! : String(error);
}

/** Runs `measure` and turns a thrown error into a failed side. */
export function side(measure: () => number[], bytes: number | null): Side {
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
export function measureDeno(plan: Plan): Record<MeasurementName, Side> {
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
