/**
 * `dmabuf fence info`: a sync_file's fences (`SYNC_IOC_FILE_INFO`), without waiting.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { openSyncFile, selectionLabel } from "./selection.ts";
import { renderSyncFile, syncFileJson } from "./sync_file_view.ts";

/** Flags of `dmabuf fence info`. */
export interface FenceInfoFlags extends CommonFlags {
  /** The sync_file's fd. */
  readonly fd: number;
  /** The process holding it. */
  readonly pid?: number;
}

/** `dmabuf fence info`: a sync_file's fences, without waiting. */
export function fenceInfo(this: DmabufContext, flags: FenceInfoFlags): void {
  const out = this.output(flags);
  const selection = { fd: flags.fd, pid: flags.pid };
  using syncFile = openSyncFile(selection);
  const state = syncFile.info();
  if (out.json) {
    out.data({ fd: flags.fd, pid: flags.pid ?? null, ...syncFileJson(state) });
    return;
  }
  renderSyncFile(out, { title: `sync_file ${selectionLabel(selection)}`, state });
}
