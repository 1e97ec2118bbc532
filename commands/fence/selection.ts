/**
 * What the fence commands work on: a sync_file by `--fd N` (of this process or of `--pid P`), opened as an fd
 * of our own; a dma-buf's access from `--read`/`--write`, and how both read in messages.
 * @module
 */

import { CliError, UsageError } from "../toolkit/errors.ts";
import type { DmaBuf } from "../../ffi/dma_buf.ts";
import { getFdOf } from "../../ffi/pidfd.ts";
import { NotASyncFileError, SyncFile } from "../../ffi/sync_file.ts";
import { DEFAULT_HEAP } from "../buffer_select.ts";
import { explainPidError } from "../pid_errors.ts";
import { checkHandedFd } from "../handed_fd.ts";
import type { BufferSelectFlags } from "../toolkit/flags.ts";

/** Where a sync_file comes from: `--fd N` of this process, or of `--pid P`. */
export interface SyncFileSelection {
  /** The fd number (in this process, or in `pid`). */
  fd: number;
  /** The process holding it; undefined for this process. */
  pid?: number | undefined;
}

/** How a selection reads in messages: `fd 5` or `fd 5 of pid 123`. */
export function selectionLabel(selection: SyncFileSelection): string {
  return selection.pid === undefined ? `fd ${selection.fd}` : `fd ${selection.fd} of pid ${selection.pid}`;
}

/**
 * Opens the selected sync_file as a descriptor of our own (a dup, or `pidfd_getfd` for `--pid`), so closing it
 * never touches the original.
 * @throws {CliError} when the fd is not open, not a sync_file, or the process cannot be reached
 */
export function openSyncFile(selection: SyncFileSelection): SyncFile {
  const label = selectionLabel(selection);
  if (selection.pid === undefined) checkHandedFd(selection.fd);
  try {
    if (selection.pid === undefined) return SyncFile.duplicate(selection.fd, label);
    return SyncFile.from(getFdOf({ pid: selection.pid, fd: selection.fd }));
  } catch (error) {
    throw syncFileSelectionError(error, selection);
  }
}

function syncFileSelectionError(error: unknown, selection: SyncFileSelection): unknown {
  if (error instanceof NotASyncFileError) {
    return new CliError(error.message, {
      cause: error,
      hint: error.actual.startsWith("/dmabuf:")
        ? "for a dma-buf's fences use fence-wait --dmabuf or fence export"
        : "pass the fd of a sync_file (from fence export, fence sw-sync or a driver)",
    });
  }
  if (selection.pid !== undefined) {
    return explainPidError(error, "getfd", { pid: selection.pid, fd: selection.fd });
  }
  return error;
}

/** What the kernel lacks when `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` answers ENOTTY. */
export const EXPORT_SYNC_FILE_MISSING = "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux 6.0+)";
/** What the kernel lacks when `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` answers ENOTTY. */
export const IMPORT_SYNC_FILE_MISSING = "kernel lacks DMA_BUF_IOCTL_IMPORT_SYNC_FILE (Linux 6.0+)";

/** `--read`/`--write` as an access; `write` (all fences) when neither is given. @throws {UsageError} for both */
export function accessOf(flags: { readonly read: boolean; readonly write: boolean }): "read" | "write" {
  if (flags.read && flags.write) throw new UsageError("Give --read or --write, not both");
  return flags.read ? "read" : "write";
}

/** The buffer as messages name it: `fd 5`, `fd 5 of pid 123`, or `fd 7 (fresh from system)`. */
export function bufferLabel(flags: BufferSelectFlags, buffer: DmaBuf): string {
  if (flags.fd !== undefined) return selectionLabel({ fd: flags.fd, pid: flags.pid });
  return `fd ${buffer.fd} (fresh from ${flags.heap ?? DEFAULT_HEAP})`;
}
