/**
 * Whether the running kernel knows a version-gated ioctl, found out without side effects: the ioctl is issued
 * on an fd of the right kind with an argument the kernel refuses before doing anything. A kernel that does
 * not know the request answers `ENOTTY` (the `default:` of `dma_buf_ioctl` / `sync_file_ioctl`); one that
 * knows it answers `EINVAL` for the bad argument.
 * - `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` / `IMPORT_SYNC_FILE` (6.0): `flags` 0 (neither READ nor WRITE) → EINVAL
 *   (`dma_buf_export_sync_file`, `dma_buf_import_sync_file`), before any fd or fence is made.
 * - `SYNC_IOC_SET_DEADLINE` (6.8): `pad` ≠ 0 → EINVAL (`sync_file_ioctl_set_deadline`), before the deadline
 *   reaches a fence.
 * @module
 */

import type { DmaBuf } from "./dma_buf.ts";
import { SyscallError } from "./errno.ts";
import type { Fd } from "./fd.ts";
import type { IoctlName } from "./ioctl.ts";
import { DmaBufSyncFile, SyncSetDeadlineStruct } from "./structs.ts";

/** What a probe found: the kernel knows the ioctl, or not, with the errno that said so. */
export interface IoctlProbe {
  /** Whether the kernel knows the ioctl. */
  present: boolean;
  /** The errno the probe got: `EINVAL` (known, argument refused) or `ENOTTY` (unknown). */
  errno: string;
}

/**
 * Issues `name` on `file` with `arg`, which the kernel must refuse: EINVAL means it knows the ioctl, ENOTTY
 * that it does not.
 * @throws {Error} when the ioctl succeeds (the argument was not invalid after all)
 * @throws {SyscallError} for any other errno
 */
export function probeIoctl(file: Fd, name: IoctlName, arg: Uint8Array<ArrayBuffer>): IoctlProbe {
  try {
    file.ioctl(name, arg);
  } catch (error) {
    if (error instanceof SyscallError && (error.is("EINVAL") || error.is("ENOTTY"))) {
      return { present: error.is("EINVAL"), errno: error.code };
    }
    throw error;
  }
  throw new Error(`ioctl(${name}) with an invalid argument succeeded on ${file.label}`);
}

/** Whether the kernel has `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` (6.0), probed on `buffer` with flags 0. */
export function probeExportSyncFile(buffer: DmaBuf): IoctlProbe {
  return probeIoctl(
    buffer.file,
    "DMA_BUF_IOCTL_EXPORT_SYNC_FILE",
    DmaBufSyncFile.encode({ flags: 0, fd: -1 }),
  );
}

/** Whether the kernel has `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` (6.0), probed on `buffer` with flags 0. */
export function probeImportSyncFile(buffer: DmaBuf): IoctlProbe {
  return probeIoctl(
    buffer.file,
    "DMA_BUF_IOCTL_IMPORT_SYNC_FILE",
    DmaBufSyncFile.encode({ flags: 0, fd: -1 }),
  );
}

/** Whether the kernel has `SYNC_IOC_SET_DEADLINE` (6.8), probed on a sync_file with `pad` 1. */
export function probeSetDeadline(syncFile: Fd): IoctlProbe {
  // A non-zero pad: kernels with the ioctl refuse it (EINVAL) before looking at the deadline.
  return probeIoctl(
    syncFile,
    "SYNC_IOC_SET_DEADLINE",
    SyncSetDeadlineStruct.encode({ deadlineNs: 0n, pad: 1n }),
  );
}
