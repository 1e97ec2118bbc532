/**
 * Fence deadline hints (Linux 6.8+): `SYNC_IOC_SET_DEADLINE` on a sync_file tells the fence's driver when
 * its result is wanted (absolute CLOCK_MONOTONIC ns, as vblank timestamps are), and sw_sync's test ioctl
 * `SW_SYNC_GET_DEADLINE` reads the earliest one back. Numbers and layouts are checked against the 6.12 tree:
 * `include/uapi/linux/sync_file.h` and `drivers/dma-buf/sw_sync.c`.
 *
 * Kernels before 6.8 answer both with ENOTTY (the `default:` of `sync_file_ioctl` / `sw_sync_ioctl`).
 * @module
 */

import { SyscallError } from "./errno.ts";
import { ioc, IOC_READ, IOC_WRITE, iow } from "./ioctl.ts";
import { check, libc } from "./libc.ts";
import { monotonicNowNs } from "./sync_file.ts";

export { monotonicNowNs };

/** The kernel release that added deadlines, for messages. */
export const DEADLINE_KERNEL = "6.8";

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkLength(bytes: Uint8Array, size: number, struct: string): DataView {
  if (bytes.byteLength < size) {
    throw new RangeError(`Cannot decode struct ${struct}: ${bytes.byteLength} bytes, need ${size}`);
  }
  return view(bytes);
}

/**
 * `struct sync_set_deadline` (`include/uapi/linux/sync_file.h`, 6.8): `__u64 deadline_ns` @0, `__u64 pad` @8
 * (must be 0).
 */
export const SyncSetDeadlineStruct = {
  SIZE: 16,
  /** Encodes a deadline (absolute CLOCK_MONOTONIC ns). */
  encode(deadlineNs: bigint): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(16);
    view(bytes).setBigUint64(0, deadlineNs, true);
    return bytes;
  },
  /** Decodes the deadline. */
  decode(bytes: Uint8Array): { deadlineNs: bigint; pad: bigint } {
    const v = checkLength(bytes, 16, "sync_set_deadline");
    return { deadlineNs: v.getBigUint64(0, true), pad: v.getBigUint64(8, true) };
  },
} as const;

/** Fields of `struct sw_sync_get_deadline`. */
export interface SwSyncGetDeadline {
  /** The deadline (out; must be 0 in). */
  deadlineNs: bigint;
  /** The sw_sync fence's sync_file fd (in). */
  fenceFd: number;
}

/**
 * `struct sw_sync_get_deadline` (`drivers/dma-buf/sw_sync.c`, 6.8): `__u64 deadline_ns` @0, `__u32 pad` @8
 * (must be 0), `__s32 fence_fd` @12.
 */
export const SwSyncGetDeadlineStruct = {
  SIZE: 16,
  /** Encodes a request (deadline and pad must be 0 going in; the kernel checks). */
  encode(value: SwSyncGetDeadline): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(16);
    const v = view(bytes);
    v.setBigUint64(0, value.deadlineNs, true);
    v.setInt32(12, value.fenceFd, true);
    return bytes;
  },
  /** Decodes a request or answer. */
  decode(bytes: Uint8Array): SwSyncGetDeadline {
    const v = checkLength(bytes, 16, "sw_sync_get_deadline");
    return { deadlineNs: v.getBigUint64(0, true), fenceFd: v.getInt32(12, true) };
  },
} as const;

/** `SYNC_IOC_MAGIC` (`include/uapi/linux/sync_file.h`). */
const SYNC_IOC_MAGIC = ">";
/** `SW_SYNC_IOC_MAGIC` (`drivers/dma-buf/sw_sync.c`). */
const SW_SYNC_IOC_MAGIC = "W";

/** The deadline ioctls (6.8+). At merge: entries of `Ioctl` in ffi/ioctl.ts. */
export const DeadlineIoctl = {
  /** `_IOW(SYNC_IOC_MAGIC, 5, struct sync_set_deadline)`, on a sync_file. */
  SYNC_IOC_SET_DEADLINE: iow(SYNC_IOC_MAGIC, 5, SyncSetDeadlineStruct.SIZE),
  /** `_IOWR(SW_SYNC_IOC_MAGIC, 2, struct sw_sync_get_deadline)`, on a sw_sync timeline. */
  SW_SYNC_GET_DEADLINE: ioc(IOC_READ | IOC_WRITE, SW_SYNC_IOC_MAGIC, 2, SwSyncGetDeadlineStruct.SIZE),
} as const;

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

function ioctl(
  fd: number,
  name: keyof typeof DeadlineIoctl,
  arg: Uint8Array<ArrayBuffer>,
  label: string,
): void {
  try {
    check(libc().ioctl(fd, DeadlineIoctl[name], arg), `ioctl(${name})`, label);
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
export function setDeadline(
  syncFileFd: number,
  deadlineNs: bigint,
  label = `sync_file fd ${syncFileFd}`,
): void {
  ioctl(syncFileFd, "SYNC_IOC_SET_DEADLINE", SyncSetDeadlineStruct.encode(deadlineNs), label);
}

/** {@link setDeadline} at now + `inNs` on CLOCK_MONOTONIC; returns the absolute deadline. */
export function setDeadlineIn(syncFileFd: number, inNs: bigint, label?: string): bigint {
  const deadline = monotonicNowNs() + inNs;
  setDeadline(syncFileFd, deadline, label);
  return deadline;
}

/**
 * `SW_SYNC_GET_DEADLINE`: the earliest deadline set on a sw_sync fence, or null when none is (ENOENT).
 * Issued on the fence's timeline fd.
 * @throws {DeadlineUnsupportedError} before 6.8
 * @throws {SyscallError} EINVAL when the fd is not a sw_sync fence
 */
export function getSwSyncDeadline(
  timelineFd: number,
  fenceFd: number,
  label = `sw_sync timeline fd ${timelineFd}`,
): bigint | null {
  const arg = SwSyncGetDeadlineStruct.encode({ deadlineNs: 0n, fenceFd });
  try {
    ioctl(timelineFd, "SW_SYNC_GET_DEADLINE", arg, label);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) return null;
    throw error;
  }
  return SwSyncGetDeadlineStruct.decode(arg).deadlineNs;
}
