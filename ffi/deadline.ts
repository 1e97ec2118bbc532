/**
 * Fence deadline hints (Linux 6.8+): `SYNC_IOC_SET_DEADLINE` on a sync_file tells the fence's driver when
 * its result is wanted (absolute CLOCK_MONOTONIC ns, as vblank timestamps are), and sw_sync's test ioctl
 * `SW_SYNC_GET_DEADLINE` reads the earliest one back. Numbers and layouts are checked against the 6.12 tree:
 * `include/uapi/linux/sync_file.h` and `drivers/dma-buf/sw_sync.c` (the requests are in `Ioctl`, the structs
 * in structs.ts).
 *
 * Kernels before 6.8 answer both with ENOTTY (the `default:` of `sync_file_ioctl` / `sw_sync_ioctl`).
 * @module
 */

import { SyscallError } from "./errno.ts";
import type { Fd } from "./fd.ts";
import type { IoctlName } from "./ioctl.ts";
import { SwSyncGetDeadlineStruct, SyncSetDeadlineStruct } from "./structs.ts";
import { monotonicNowNs } from "./sync_file.ts";

export { monotonicNowNs };

/** The kernel release that added deadlines, for messages. */
export const DEADLINE_KERNEL = "6.8";

/** Thrown when the kernel has no deadline ioctls (ENOTTY: before 6.8). */
export class DeadlineUnsupportedError extends Error {
  /** The ENOTTY the kernel gave. */
  override readonly cause: SyscallError;
  /** Makes the error for the failed call. */
  constructor(cause: SyscallError) {
    super(`Fence deadlines need Linux ${DEADLINE_KERNEL} or later: ${cause.message}`);
    this.name = "DeadlineUnsupportedError";
    this.cause = cause;
  }
}

function ioctl(file: Fd, name: IoctlName, arg: Uint8Array<ArrayBuffer>): void {
  try {
    file.ioctl(name, arg);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOTTY")) throw new DeadlineUnsupportedError(error);
    throw error;
  }
}

/**
 * `SYNC_IOC_SET_DEADLINE`: asks the drivers of the sync_file's fences to finish by `deadlineNs` (absolute
 * CLOCK_MONOTONIC). A hint: drivers without `set_deadline` ignore it.
 * @throws {DeadlineUnsupportedError} before 6.8
 * @throws {SyscallError} e.g. EBADF, EINVAL
 */
export function setDeadline(syncFile: Fd, deadlineNs: bigint): void {
  ioctl(syncFile, "SYNC_IOC_SET_DEADLINE", SyncSetDeadlineStruct.encode({ deadlineNs }));
}

/** {@link setDeadline} at now + `inNs` on CLOCK_MONOTONIC; returns the absolute deadline. */
export function setDeadlineIn(syncFile: Fd, inNs: bigint): bigint {
  const deadline = monotonicNowNs() + inNs;
  setDeadline(syncFile, deadline);
  return deadline;
}

/**
 * `SW_SYNC_GET_DEADLINE`: the earliest deadline set on a sw_sync fence, or null when none is (ENOENT).
 * Issued on a sw_sync timeline fd — any timeline: the kernel only checks that `fenceFd` is a sw_sync fence.
 * @throws {DeadlineUnsupportedError} before 6.8
 * @throws {SyscallError} EINVAL when the fd is not a sw_sync fence
 */
export function getSwSyncDeadline(timeline: Fd, fenceFd: number): bigint | null {
  const arg = SwSyncGetDeadlineStruct.encode({ deadlineNs: 0n, fenceFd });
  try {
    ioctl(timeline, "SW_SYNC_GET_DEADLINE", arg);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) return null;
    throw error;
  }
  return SwSyncGetDeadlineStruct.decode(arg).deadlineNs;
}
