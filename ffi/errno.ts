/**
 * errno names and the one error class every failed system call becomes.
 *
 * Values are Linux's generic ones (`include/uapi/asm-generic/errno-base.h` and `errno.h`), shared by x86_64,
 * arm64, arm and riscv.
 * @module
 */

/** Linux errno values by name, for the errors this tool meets or reports. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  EBADFD: 77,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  ECANCELED: 125,
} as const;

/** A name of {@link Errno}. */
export type ErrnoName = keyof typeof Errno;

const namesByValue = new Map<number, string>(Object.entries(Errno).map(([name, value]) => [value, name]));

/** The symbolic name of an errno value, e.g. `ENOMEM` for 12, or `errno 200` for one without a name here. */
export function errnoName(errno: number): string {
  return namesByValue.get(errno) ?? `errno ${errno}`;
}

/** Options of {@link SyscallError}. */
export interface SyscallErrorOptions {
  /** The text libc's `strerror` gives for the errno. */
  description?: string;
  /** What the call was made on, e.g. a path or `/dev/dma_heap/system`. */
  target?: string;
}

/**
 * A failed system call: which call (with the ioctl's kernel name where there is one), the errno, and what it
 * was made on.
 *
 * The message reads `ioctl(DMA_HEAP_IOCTL_ALLOC) on /dev/dma_heap/system failed: ENOMEM (Cannot allocate memory)`.
 */
export class SyscallError extends Error {
  /** The call, e.g. `open` or `ioctl(DMA_BUF_IOCTL_SYNC)`. */
  readonly syscall: string;
  /** The errno value. */
  readonly errno: number;
  /** The errno's name, e.g. `EACCES`. */
  readonly code: string;
  /** What the call was made on, if known. */
  readonly target: string | undefined;

  /** Makes the error for `syscall` failing with `errno`. */
  constructor(syscall: string, errno: number, options: SyscallErrorOptions = {}) {
    const code = errnoName(errno);
    const on = options.target === undefined ? "" : ` on ${options.target}`;
    const description = options.description === undefined ? "" : ` (${options.description})`;
    super(`${syscall}${on} failed: ${code}${description}`);
    this.name = "SyscallError";
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.target = options.target;
  }

  /** Whether this error carries the errno called `name`. */
  is(name: ErrnoName): boolean {
    return this.errno === Errno[name];
  }
}
