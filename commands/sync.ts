/**
 * `dmabuf sync`: issue `DMA_BUF_IOCTL_SYNC` START, END or both on a dma-buf and report how long each took (a
 * START waits, without timeout, for the fences the access conflicts with).
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { UsageError } from "./toolkit/errors.ts";
import { formatDuration } from "./toolkit/units.ts";
import { type Access, accessFlags } from "../ffi/dma_buf.ts";
import { DmaBufSyncFlags } from "../ffi/ioctl.ts";
import { selectBuffer } from "./buffer_select.ts";
import type { BufferSelectFlags } from "./toolkit/flags.ts";

/** Flags of `dmabuf sync`. */
export interface SyncFlags extends CommonFlags, BufferSelectFlags {
  /** `DMA_BUF_SYNC_START`. */
  readonly start: boolean;
  /** `DMA_BUF_SYNC_END`. */
  readonly end: boolean;
  /** START then END. */
  readonly bracket: boolean;
  /** `DMA_BUF_SYNC_READ`. */
  readonly read: boolean;
  /** `DMA_BUF_SYNC_WRITE`. */
  readonly write: boolean;
  /** `DMA_BUF_SYNC_RW`. */
  readonly rw: boolean;
}

/** Which SYNC calls to make. */
export type SyncPhase = "start" | "end" | "bracket";

/** What the flags ask for. */
export interface SyncRequest {
  /** START, END or both. */
  phase: SyncPhase;
  /** The access direction. */
  access: Access;
}

/**
 * The phase and access the flags name: exactly one of each.
 * @throws {UsageError} for none or several of either
 */
export function syncRequest(flags: SyncFlags): SyncRequest {
  const phases = (["start", "end", "bracket"] as const).filter((p) => flags[p]);
  const accesses = (["read", "write", "rw"] as const).filter((a) => flags[a]);
  if (phases.length !== 1) {
    throw new UsageError(
      `Choose one of --start, --end, --bracket${phases.length === 0 ? "" : `: got --${phases.join(", --")}`}`,
    );
  }
  if (accesses.length !== 1) {
    throw new UsageError(
      `Choose one of --read, --write, --rw${accesses.length === 0 ? "" : `: got --${accesses.join(", --")}`}`,
    );
  }
  return { phase: phases[0]!, access: accesses[0]! };
}

/** One `DMA_BUF_IOCTL_SYNC` call as reported. */
export interface SyncStep {
  /** START or END. */
  phase: "start" | "end";
  /** The `flags` passed to the kernel. */
  flags: number;
  /** Wall time of the ioctl (restarts after EINTR/EAGAIN included), in milliseconds. */
  elapsedMs: number;
}

function flagNames(phase: "start" | "end", access: Access): string {
  const direction = access === "rw" ? "RW" : access.toUpperCase();
  return `DMA_BUF_SYNC_${phase.toUpperCase()}|DMA_BUF_SYNC_${direction}`;
}

/** Issues the SYNC ioctl(s) on the selected buffer and reports each one's duration. */
export function sync(this: DmabufContext, flags: SyncFlags): void {
  const request = syncRequest(flags);
  const out = this.output(flags);
  using buffer = selectBuffer(flags);
  const phases: ("start" | "end")[] = request.phase === "bracket" ? ["start", "end"] : [request.phase];
  const steps: SyncStep[] = [];
  for (const phase of phases) {
    const started = performance.now();
    buffer.sync(phase, request.access);
    const elapsedMs = performance.now() - started;
    const bits = accessFlags(request.access) | (phase === "end" ? DmaBufSyncFlags.DMA_BUF_SYNC_END : 0);
    steps.push({ phase, flags: bits, elapsedMs });
  }
  const total = steps.reduce((sum, step) => sum + step.elapsedMs, 0);
  if (out.json) {
    out.data({ fd: buffer.fd, phase: request.phase, access: request.access, elapsedMs: total, steps });
    return;
  }
  for (const step of steps) {
    out.line(
      `${flagNames(step.phase, request.access)} on ${buffer.file.label}: ${formatDuration(step.elapsedMs)}`,
    );
  }
}
