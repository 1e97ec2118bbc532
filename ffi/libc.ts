/**
 * The one libc symbol table, opened lazily once, and the errno funnel every call goes through.
 *
 * Every symbol is called synchronously: errno is thread-local, and a `nonblocking` call runs on another
 * thread, so its errno could not be read afterwards. Blocking waits are made in short synchronous slices by
 * the callers instead.
 * @module
 */

import { SyscallError, type SyscallErrorOptions } from "./errno.ts";

/** C `int`. */
const int = "i32";
/** C `unsigned int` / `mode_t`. */
const uint = "u32";
/** C `size_t`. */
const size_t = "usize";
/** C `ssize_t`. */
const ssize_t = "isize";
/** C `off_t` (64-bit on LP64). */
const off_t = "i64";
/** C `unsigned long` (the ioctl request; LP64). */
const ulong = "u64";
/** C `long` (syscall arguments and result; LP64). */
const long = "i64";
/** A pointer to memory owned by JavaScript (a TypedArray). */
const buf = "buffer";
/** A raw pointer. */
const ptr = "pointer";

const symbols = {
  /** `int open(const char *path, int flags, mode_t mode)` */
  open: { parameters: [buf, int, uint], result: int },
  /** `int close(int fd)` */
  close: { parameters: [int], result: int },
  /** `ssize_t read(int fd, void *buf, size_t count)` */
  read: { parameters: [int, buf, size_t], result: ssize_t },
  /** `ssize_t write(int fd, const void *buf, size_t count)` */
  write: { parameters: [int, buf, size_t], result: ssize_t },
  /** `int ioctl(int fd, unsigned long request, void *arg)`; variadic, but the pointer passes like a fixed argument on LP64 Linux */
  ioctl: { parameters: [int, ulong, buf], result: int },
  /** `void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)` */
  mmap: { parameters: [ptr, size_t, int, int, int, off_t], result: ptr },
  /** `int munmap(void *addr, size_t length)` */
  munmap: { parameters: [ptr, size_t], result: int },
  /** `int poll(struct pollfd *fds, nfds_t nfds, int timeout)` */
  poll: { parameters: [buf, ulong, int], result: int },
  /** `int fcntl(int fd, int cmd, long arg)`; variadic, the integer argument passes like a fixed one */
  fcntl: { parameters: [int, int, long], result: int },
  /** `off_t lseek(int fd, off_t offset, int whence)` */
  lseek: { parameters: [int, off_t, int], result: off_t },
  /** `int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)` */
  statx: { parameters: [int, buf, int, uint, buf], result: int },
  /** `ssize_t getxattr(const char *path, const char *name, void *value, size_t size)`; a device node's ACL */
  getxattr: { parameters: [buf, buf, buf, size_t], result: ssize_t },
  /** `ssize_t readlink(const char *path, char *buf, size_t size)` */
  readlink: { parameters: [buf, buf, size_t], result: ssize_t },
  /** `int memcmp(const void *s1, const void *s2, size_t n)`; compares mapped memory natively for verify */
  memcmp: { parameters: [ptr, buf, size_t], result: int },
  /** `void *memset(void *s, int c, size_t n)`; fills mapped memory natively with one byte */
  memset: { parameters: [ptr, int, size_t], result: ptr },
  /** `int memfd_create(const char *name, unsigned int flags)` */
  memfd_create: { parameters: [buf, uint], result: int },
  /** `int ftruncate(int fd, off_t length)` */
  ftruncate: { parameters: [int, off_t], result: int },
  /** `int dup(int fd)` */
  dup: { parameters: [int], result: int },
  /** `long syscall(long number, ...)`; used for pidfd_open and pidfd_getfd, which glibc 2.36 does not wrap */
  syscall: { parameters: [long, long, long, long], result: long },
  /** The same `syscall(2)` with a pointer second argument: `bpf(int cmd, union bpf_attr *attr, unsigned int size)` */
  syscall_ptr: { name: "syscall", parameters: [long, long, buf, long], result: long },
  /** `int clock_gettime(clockid_t clockid, struct timespec *tp)`; CLOCK_MONOTONIC is what fence timestamps use */
  clock_gettime: { parameters: [int, buf], result: int },
  /** `int mkdir(const char *path, mode_t mode)`; tracefs instances are directories made and removed this way */
  mkdir: { parameters: [buf, uint], result: int },
  /** `int rmdir(const char *path)` */
  rmdir: { parameters: [buf], result: int },
  /** `int getrusage(int who, struct rusage *usage)`; the CPU time trace's reader costs */
  getrusage: { parameters: [int, buf], result: int },
  /** `void *calloc(size_t nmemb, size_t size)`; memory for a pointer a struct holds (see native_memory.ts) */
  calloc: { parameters: [size_t, size_t], result: ptr },
  /** `void free(void *ptr)` */
  free: { parameters: [ptr], result: "void" },
  /** `int getpagesize(void)`; the kernel's page size (4096, 16384 on some arm64 kernels, 65536 on others) */
  getpagesize: { parameters: [], result: int },
  /** `unsigned int geteuid(void)` */
  geteuid: { parameters: [], result: uint },
  /** `int *__errno_location(void)` */
  __errno_location: { parameters: [], result: ptr },
  /** `char *strerror(int errnum)` */
  strerror: { parameters: [int], result: ptr },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc functions bound by this module. */
export type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

let library: Deno.DynamicLibrary<typeof symbols> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The libc symbols, opening libc on first use. The library is never closed: it lives as long as the process.
 * @throws {Error} when libc cannot be opened (not glibc, or `--allow-ffi` missing)
 */
export function libc(): Libc {
  if (library === undefined) {
    library = Deno.dlopen("libc.so.6", symbols);
    // The main thread's errno lives at a fixed address, so the pointer is read once.
    const location = library.symbols.__errno_location();
    if (location === null) throw new Error("Cannot locate errno: __errno_location returned NULL");
    errnoView = new Deno.UnsafePointerView(location);
  }
  return library.symbols;
}

/** The calling thread's errno as the last synchronous libc call left it. */
export function errno(): number {
  libc();
  return errnoView!.getInt32();
}

/** libc's description of an errno value, e.g. `Cannot allocate memory`. */
export function strerror(errnum: number): string {
  const text = libc().strerror(errnum);
  return text === null ? `errno ${errnum}` : Deno.UnsafePointerView.getCString(text);
}

/** Makes the {@link SyscallError} for the errno the last call left, read before anything else can change it. */
export function lastError(syscall: string, target?: string): SyscallError {
  const value = errno();
  const options: SyscallErrorOptions = { description: strerror(value) };
  if (target !== undefined) options.target = target;
  return new SyscallError(syscall, value, options);
}

/**
 * The errno funnel: returns `result` when it is not -1, else throws the {@link SyscallError} for errno.
 * Call it directly on the libc call's result, with nothing in between.
 * @throws {SyscallError} when `result` is -1
 */
export function check<T extends number | bigint>(result: T, syscall: string, target?: string): T {
  if (result === -1 || result === -1n) throw lastError(syscall, target);
  return result;
}

/** A NUL-terminated copy of `text` to pass as a C string. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/** The text of a NUL-terminated (or full) byte field, decoded as UTF-8. */
export function fromCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** `RUSAGE_SELF` (`include/uapi/linux/resource.h`). */
const RUSAGE_SELF = 0;
/** `struct rusage` on LP64: `ru_utime` (struct timeval: `tv_sec` i64, `tv_usec` i64) @0, `ru_stime` @16; 144 bytes. */
const RUSAGE_SIZE = 144;

/**
 * CPU time this process has used so far (user + system, all threads), in ms, from `getrusage(RUSAGE_SELF)`.
 * @throws {SyscallError} when getrusage fails (it cannot for RUSAGE_SELF)
 */
export function processCpuMs(): number {
  const usage = new Uint8Array(RUSAGE_SIZE);
  check(libc().getrusage(RUSAGE_SELF, usage), "getrusage", "RUSAGE_SELF");
  const v = new DataView(usage.buffer);
  const ms = (offset: number) =>
    Number(v.getBigInt64(offset, true)) * 1000 + Number(v.getBigInt64(offset + 8, true)) / 1000;
  return ms(0) + ms(16);
}
