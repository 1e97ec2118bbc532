/**
 * `dmabuf fence deadline`: sets a deadline hint on a sync_file (`SYNC_IOC_SET_DEADLINE`, Linux 6.8+), in a
 * duration from now or at an absolute CLOCK_MONOTONIC time.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError, UsageError } from "../toolkit/errors.ts";
import { formatDuration } from "../toolkit/units.ts";
import { DEADLINE_KERNEL, DeadlineUnsupportedError, setDeadline } from "../../ffi/deadline.ts";
import { monotonicNowNs } from "../../ffi/sync_file.ts";
import { openSyncFile, selectionLabel } from "./selection.ts";

/** Flags of `dmabuf fence deadline`. */
export interface FenceDeadlineFlags extends CommonFlags {
  /** The sync_file's fd. */
  readonly fd: number;
  /** The process holding it. */
  readonly pid?: number;
  /** `--in`: the deadline this many ms from now. */
  readonly in?: number;
  /** `--at`: the deadline at this CLOCK_MONOTONIC time in ns. */
  readonly at?: bigint;
}

/** The `--json` document of fence deadline. */
export interface FenceDeadlineJson {
  /** The fd as given. */
  fd: number;
  /** The process holding it, or null for this one. */
  pid: number | null;
  /** The deadline set, absolute CLOCK_MONOTONIC ns. */
  deadlineNs: bigint;
  /** CLOCK_MONOTONIC ns when it was set (the deadline may be in the past: `--at`). */
  setAtNs: bigint;
}

/** `dmabuf fence deadline`: sets the deadline and says when it is. */
export function fenceDeadline(this: DmabufContext, flags: FenceDeadlineFlags): void {
  if ((flags.in === undefined) === (flags.at === undefined)) {
    throw new UsageError("fence deadline needs exactly one of --in DURATION and --at NS");
  }
  const out = this.output(flags);
  const selection = { fd: flags.fd, pid: flags.pid };
  const label = `sync_file ${selectionLabel(selection)}`;
  using syncFile = openSyncFile(selection);
  const setAtNs = monotonicNowNs();
  const deadlineNs = flags.at ?? setAtNs + BigInt(Math.round(flags.in! * 1e6));
  try {
    setDeadline(syncFile.file, deadlineNs);
  } catch (error) {
    if (!(error instanceof DeadlineUnsupportedError)) throw error;
    throw new CliError(
      `Cannot set a deadline on ${label}: fence deadlines need Linux ${DEADLINE_KERNEL} or later (${error.cause.code})`,
      { cause: error },
    );
  }
  if (out.json) {
    const document: FenceDeadlineJson = { fd: flags.fd, pid: flags.pid ?? null, deadlineNs, setAtNs };
    out.data(document);
    return;
  }
  const ms = Number(deadlineNs - setAtNs) / 1e6;
  const when = ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
  out.line(`${label}: deadline set at CLOCK_MONOTONIC ${deadlineNs} ns (${when})`);
}
