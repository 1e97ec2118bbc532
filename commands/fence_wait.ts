/**
 * `dmabuf fence-wait`: waits on a sync_file, or on a dma-buf's implicit fences (through an exported
 * sync_file, or `poll` on the buffer where the kernel lacks `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`), with a timeout
 * and a prompt Ctrl-C, and says what it waited on. `--deadline` first sets a deadline hint on the sync_file
 * (`SYNC_IOC_SET_DEADLINE`, Linux 6.8+; older kernels get a warning and the wait goes on).
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, interruptedExitCode, TimeoutError, UsageError } from "./toolkit/errors.ts";
import type { Output } from "./toolkit/output.ts";
import { formatDuration } from "./toolkit/units.ts";
import { STDOUT_CLOSED } from "./toolkit/streams.ts";
import { DEADLINE_KERNEL, DeadlineUnsupportedError, setDeadlineIn } from "../ffi/deadline.ts";
import { SyscallError } from "../ffi/errno.ts";
import { PollEvents } from "../ffi/fd.ts";
import { waitForEvents, type WaitOutcome } from "../ffi/fence_wait.ts";
import { fenceStatusText, SyncFile, type SyncFileState } from "../ffi/sync_file.ts";
import { selectBuffer } from "./buffer_select.ts";
import {
  accessOf,
  bufferLabel,
  EXPORT_SYNC_FILE_MISSING,
  openSyncFile,
  selectionLabel,
} from "./fence/selection.ts";
import { renderSyncFile, type SyncFileJson, syncFileJson } from "./fence/sync_file_view.ts";
import type { BufferSelectFlags } from "./toolkit/flags.ts";

/** Flags of `dmabuf fence-wait`. */
export interface FenceWaitFlags extends CommonFlags, BufferSelectFlags {
  /** Wait on the dma-buf's implicit fences instead of a sync_file. */
  readonly dmabuf: boolean;
  /** `--dmabuf`: wait for the writers only (what a CPU read waits for). */
  readonly read: boolean;
  /** `--dmabuf`: wait for all fences (what a CPU write waits for); the default. */
  readonly write: boolean;
  /** `--dmabuf`: poll the buffer instead of exporting a sync_file. */
  readonly poll: boolean;
  /** Give up after this many ms. */
  readonly timeout?: number;
  /** Before waiting, set a deadline this many ms from now on the sync_file (6.8+). */
  readonly deadline?: number;
}

/** How the wait ended, for JSON: `signalled`, `error` (signalled with an error status), `timeout`, `interrupted`. */
export type WaitResult = "signalled" | "error" | "timeout" | "interrupted";

/** What was waited on, for JSON. */
export interface WaitTarget {
  /** `sync_file` or `dmabuf`. */
  kind: "sync_file" | "dmabuf";
  /** The fd number as given. */
  fd: number | null;
  /** The process holding it, or null for this one. */
  pid: number | null;
  /** `--dmabuf`: `read` (writers) or `write` (all fences); null for a sync_file. */
  access: "read" | "write" | null;
  /** `--dmabuf`: the buffer's inode; null for a sync_file. */
  inode: number | null;
}

/** The `--json` document of fence-wait. */
export interface FenceWaitJson {
  /** What was waited on. */
  target: WaitTarget;
  /** `sync_file` (a sync_file, given or exported from the buffer) or `poll` (poll on the dma-buf itself). */
  method: "sync_file" | "poll";
  /** How it ended. */
  result: WaitResult;
  /** Milliseconds waited. */
  elapsedMs: number;
  /** `--timeout` in ms, or null for none. */
  timeoutMs: number | null;
  /** The deadline set (absolute CLOCK_MONOTONIC ns), or null: no `--deadline`, or the kernel has none (< 6.8). */
  deadlineNs: bigint | null;
  /** The sync_file after the wait (per-fence status and timestamps); null for the poll method. */
  syncFile: SyncFileJson | null;
}

function resultOf(outcome: WaitOutcome, state: SyncFileState | null): WaitResult {
  if (outcome.kind === "timeout") return "timeout";
  if (outcome.kind === "aborted") return "interrupted";
  return state !== null && state.status < 0 ? "error" : "signalled";
}

function checkFlags(flags: FenceWaitFlags): void {
  if (flags.deadline !== undefined && flags.poll) {
    throw new UsageError("--deadline needs a sync_file to set it on: not with --poll");
  }
  if (!flags.dmabuf) {
    const stray = (["read", "write", "poll"] as const).find((name) => flags[name]);
    if (stray !== undefined) throw new UsageError(`--${stray} applies to --dmabuf only`);
    if (flags.fd === undefined) {
      throw new UsageError(
        "fence-wait needs --fd N (a sync_file), or --dmabuf with a buffer (--fd N, --pid P --fd N)",
      );
    }
  }
}

/**
 * `--deadline`: sets it on the sync_file about to be waited on and returns it (absolute ns), or null when not
 * asked or the kernel is older than 6.8 (then a warning, once: the wait goes on without it).
 */
function applyDeadline(out: Output, syncFile: SyncFile, deadlineMs: number | undefined): bigint | null {
  if (deadlineMs === undefined) return null;
  try {
    return setDeadlineIn(syncFile.file, BigInt(Math.round(deadlineMs * 1e6)));
  } catch (error) {
    if (!(error instanceof DeadlineUnsupportedError)) throw error;
    out.warn(
      `--deadline ignored: fence deadlines need Linux ${DEADLINE_KERNEL} or later (${error.cause.message})`,
    );
    return null;
  }
}

/** Waits, reports, and ends with the exit status the result calls for. */
export async function fenceWait(this: DmabufContext, flags: FenceWaitFlags): Promise<void> {
  checkFlags(flags);
  const out = this.output(flags);
  const signal = this.interrupt();
  const options = { timeoutMs: flags.timeout, signal };
  if (!flags.dmabuf) {
    const selection = { fd: flags.fd!, pid: flags.pid };
    using syncFile = openSyncFile(selection);
    const deadlineNs = applyDeadline(out, syncFile, flags.deadline);
    // Read before the wait: from 6.17 the kernel names a fence only until it signals (info() keeps them).
    syncFile.info();
    const outcome = await syncFile.wait(options);
    const target: WaitTarget = {
      kind: "sync_file",
      fd: flags.fd!,
      pid: flags.pid ?? null,
      access: null,
      inode: null,
    };
    report(out, {
      target,
      label: `sync_file ${selectionLabel(selection)}`,
      method: "sync_file",
      outcome,
      state: syncFile.info(),
      deadlineNs,
      flags,
      signal,
    });
    return;
  }
  const access = accessOf(flags);
  using buffer = selectBuffer(flags);
  const target: WaitTarget = {
    kind: "dmabuf",
    fd: flags.fd ?? null,
    pid: flags.pid ?? null,
    access,
    inode: buffer.inode(),
  };
  const label = `dma-buf ${bufferLabel(flags, buffer)} (${access === "read" ? "writers" : "all fences"})`;
  let exported: SyncFile | null = null;
  if (!flags.poll) {
    try {
      exported = new SyncFile(buffer.exportSyncFile(access));
    } catch (error) {
      if (!(error instanceof SyscallError && error.is("ENOTTY"))) throw error;
      out.note(`dmabuf: ${EXPORT_SYNC_FILE_MISSING}: waiting with poll on the dma-buf instead`);
      if (flags.deadline !== undefined) out.warn("--deadline ignored: no sync_file to set it on (poll)");
    }
  }
  if (exported !== null) {
    using syncFile = exported;
    const deadlineNs = applyDeadline(out, syncFile, flags.deadline);
    syncFile.info();
    const outcome = await syncFile.wait(options);
    report(out, {
      target,
      label,
      method: "sync_file",
      outcome,
      state: syncFile.info(),
      deadlineNs,
      flags,
      signal,
    });
    return;
  }
  const events = access === "read" ? PollEvents.POLLIN : PollEvents.POLLOUT;
  const outcome = await waitForEvents({ fd: buffer.fd, events, label }, options);
  report(out, { target, label, method: "poll", outcome, state: null, deadlineNs: null, flags, signal });
}

interface Report {
  target: WaitTarget;
  label: string;
  method: "sync_file" | "poll";
  outcome: WaitOutcome;
  state: SyncFileState | null;
  deadlineNs: bigint | null;
  flags: FenceWaitFlags;
  /** The interrupt signal: its reason (SIGINT or SIGTERM) decides the exit status of an interrupted wait. */
  signal: AbortSignal;
}

function report(out: Output, report: Report): void {
  const { outcome, state, label, flags } = report;
  const result = resultOf(outcome, state);
  if (out.json) {
    const document: FenceWaitJson = {
      target: report.target,
      method: report.method,
      result,
      elapsedMs: Math.round(outcome.elapsedMs * 1000) / 1000,
      timeoutMs: flags.timeout ?? null,
      deadlineNs: report.deadlineNs,
      syncFile: state === null ? null : syncFileJson(state),
    };
    out.data(document);
  } else {
    const how = report.method === "poll" ? " (poll on the dma-buf)" : "";
    const words: Record<WaitResult, string> = {
      signalled: out.paint(report.method === "poll" ? "idle" : "signalled", "green"),
      error: out.paint(`signalled with error ${state === null ? "" : fenceStatusText(state.status)}`, "red"),
      timeout: out.paint("timed out", "yellow"),
      interrupted: out.paint("interrupted", "yellow"),
    };
    out.line(`${label}: ${words[result]} after ${formatDuration(outcome.elapsedMs)}${how}`);
    if (report.deadlineNs !== null) {
      out.line(
        `deadline: ${
          formatDuration(flags.deadline!)
        } after the start (CLOCK_MONOTONIC ${report.deadlineNs} ns)`,
      );
    }
    if (state !== null) renderSyncFile(out, { title: "sync_file", state });
  }
  const waited = formatDuration(outcome.elapsedMs);
  switch (result) {
    case "signalled":
      return;
    case "error":
      throw new CliError(`${label} signalled with error ${fenceStatusText(state!.status)}`);
    case "timeout":
      throw new TimeoutError(`Timed out after ${waited} waiting on ${label}`);
    case "interrupted": {
      const reason = report.signal.reason;
      const what = reason === STDOUT_CLOSED ? "Stopped (stdout was closed)" : "Interrupted";
      throw new CliError(`${what} after ${waited} waiting on ${label}`, {
        exitCode: interruptedExitCode(reason),
      });
    }
  }
}
