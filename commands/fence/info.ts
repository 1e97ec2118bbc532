/**
 * `dmabuf fence info`: a sync_file's fences (`SYNC_IOC_FILE_INFO`), without waiting, and a sw_sync fence's
 * deadline where the kernel can tell (`SW_SYNC_GET_DEADLINE`, 6.8+).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { formatDuration } from "../toolkit/units.ts";
import { DeadlineUnsupportedError, getSwSyncDeadline } from "../../ffi/deadline.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { SwSyncTimeline, SwSyncUnavailableError } from "../../ffi/sw_sync.ts";
import { monotonicNowNs, type SyncFile, type SyncFileState } from "../../ffi/sync_file.ts";
import { openSyncFile, selectionLabel } from "./selection.ts";
import { renderSyncFile, syncFileJson } from "./sync_file_view.ts";

/** Flags of `dmabuf fence info`. */
export interface FenceInfoFlags extends CommonFlags {
  /** The sync_file's fd. */
  readonly fd: number;
  /** The process holding it. */
  readonly pid?: number;
}

/**
 * The deadline set on a sync_file holding one sw_sync fence (absolute CLOCK_MONOTONIC ns), or null: none set,
 * or not knowable — another driver, several fences (a merged file is a fence array), a kernel before 6.8
 * (ENOTTY), or sw_sync not reachable. `SW_SYNC_GET_DEADLINE` is issued on a timeline, but any will do (the
 * kernel only checks that the fd is a sw_sync fence), so a throwaway one is opened and closed.
 */
function swSyncDeadline(syncFile: SyncFile, state: SyncFileState): bigint | null {
  if (state.fences.length !== 1 || state.fences[0]!.driver !== "sw_sync") return null;
  try {
    using timeline = SwSyncTimeline.open();
    return getSwSyncDeadline(timeline.file, syncFile.fd);
  } catch (error) {
    if (
      error instanceof DeadlineUnsupportedError || error instanceof SwSyncUnavailableError ||
      error instanceof SyscallError
    ) {
      return null;
    }
    throw error;
  }
}

/** `dmabuf fence info`: a sync_file's fences, without waiting. */
export function fenceInfo(this: DmabufContext, flags: FenceInfoFlags): void {
  const out = this.output(flags);
  const selection = { fd: flags.fd, pid: flags.pid };
  using syncFile = openSyncFile(selection);
  const state = syncFile.info();
  const deadlineNs = swSyncDeadline(syncFile, state);
  if (out.json) {
    out.data({ fd: flags.fd, pid: flags.pid ?? null, ...syncFileJson(state), deadlineNs });
    return;
  }
  renderSyncFile(out, { title: `sync_file ${selectionLabel(selection)}`, state });
  if (deadlineNs !== null) {
    const ms = Number(deadlineNs - monotonicNowNs()) / 1e6;
    const when = ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
    out.line(`deadline: CLOCK_MONOTONIC ${deadlineNs} ns (${when})`);
  }
}
