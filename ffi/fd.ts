/**
 * File descriptors as disposable objects, and the plain fd calls (open, ioctl, poll, fcntl, lseek, statx).
 * @module
 */

import { Errno, type ErrnoName, SyscallError } from "./errno.ts";
import { check, cString, libc } from "./libc.ts";
import type { IoctlName } from "./ioctl.ts";
import { Ioctl } from "./ioctl.ts";
import { type PollFd, PollFdStruct, type Statx, StatxStruct } from "./structs.ts";

/** `open(2)` flags (generic values, same on x86_64 and arm64). */
export const OpenFlags = {
  O_RDONLY: 0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
} as const;

/** `fcntl(2)` commands and values. */
export const Fcntl = {
  F_GETFD: 1,
  F_SETFD: 2,
  F_GETFL: 3,
  F_DUPFD_CLOEXEC: 1030,
  FD_CLOEXEC: 1,
  F_ADD_SEALS: 1033,
  F_GET_SEALS: 1034,
  F_SEAL_SEAL: 0x1,
  F_SEAL_SHRINK: 0x2,
  F_SEAL_GROW: 0x4,
  F_SEAL_WRITE: 0x8,
} as const;

/** `poll(2)` event bits. */
export const PollEvents = {
  POLLIN: 0x1,
  POLLPRI: 0x2,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
} as const;

/** `lseek(2)` whence values. */
export const Whence = { SEEK_SET: 0, SEEK_CUR: 1, SEEK_END: 2 } as const;

/** `statx(2)` constants. */
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS = 0x7ff;

/** `S_IFMT` file type bits of `st_mode` and their names. */
export const FileType = {
  S_IFMT: 0o170000,
  S_IFSOCK: 0o140000,
  S_IFLNK: 0o120000,
  S_IFREG: 0o100000,
  S_IFBLK: 0o060000,
  S_IFDIR: 0o040000,
  S_IFCHR: 0o020000,
  S_IFIFO: 0o010000,
} as const;

/**
 * An open file descriptor this process owns. Closing is idempotent; after close, every use throws instead of
 * reaching whatever file the number is reused for.
 */
export class Fd implements Disposable {
  #fd: number;
  /** What the fd refers to, for messages (a path, or a description such as `dma-buf`). */
  readonly label: string;

  /** Takes ownership of `fd`. */
  constructor(fd: number, label: string) {
    this.#fd = fd;
    this.label = label;
  }

  /** The fd number. @throws {Error} after close */
  get fd(): number {
    if (this.#fd < 0) throw new Error(`${this.label} is closed`);
    return this.#fd;
  }

  /** Whether the fd is still open. */
  get open(): boolean {
    return this.#fd >= 0;
  }

  /**
   * Issues `ioctl(fd, request, arg)` and returns its non-negative result.
   * @throws {SyscallError} naming the ioctl and this fd's label
   */
  ioctl(name: IoctlName, arg: Uint8Array<ArrayBuffer>): number {
    return check(libc().ioctl(this.fd, Ioctl[name], arg), `ioctl(${name})`, this.label);
  }

  /** Closes the fd; closing again does nothing. @throws {SyscallError} when close(2) fails */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    // Linux releases the fd even when close reports an error, so the number is never closed twice.
    check(libc().close(fd), "close", this.label);
  }

  /** Gives up ownership: the caller now closes the returned number. */
  release(): number {
    const fd = this.fd;
    this.#fd = -1;
    return fd;
  }

  /** Closes the fd, swallowing errors (dispose must not throw over the error that unwound the scope). */
  [Symbol.dispose](): void {
    try {
      this.close();
    } catch {
      // already released by the kernel; nothing more to do
    }
  }
}

/** Options of {@link openPath}. */
export interface OpenOptions {
  /** `open(2)` flags; `O_CLOEXEC` is always added. Default `O_RDONLY`. */
  flags?: number;
  /** Mode for a created file. */
  mode?: number;
}

/**
 * Opens `path` with libc's open(2) (which Deno's permission checks do not cover, so it works on /proc and /dev).
 * @throws {SyscallError} e.g. ENOENT or EACCES, with the path in the message
 */
export function openPath(path: string, options: OpenOptions = {}): Fd {
  const flags = (options.flags ?? OpenFlags.O_RDONLY) | OpenFlags.O_CLOEXEC;
  const fd = check(libc().open(cString(path), flags, options.mode ?? 0), "open", path);
  return new Fd(fd, path);
}

/**
 * Reads the whole of a file the kernel makes up as it is read, under /proc or /sys (debugfs and tracefs
 * included): `/proc/self/fdinfo/3`, `/proc/meminfo`, bufinfo. Through libc, which Deno's permission checks do
 * not cover, and to EOF, as such files report size 0. Not for a user's file: that has a size cap, a type
 * check and one-line errors (`commands/toolkit/user_file.ts`).
 * @throws {SyscallError}
 */
export function readProcSysFile(path: string): string {
  using file = openPath(path);
  return new TextDecoder().decode(readToEnd(file));
}

/**
 * The names in directory `path` (Deno's listing, which covers /proc, /sys and /dev under `--allow-all`), with
 * its errors turned into the project's {@link SyscallError} (`readdir on <path> failed: EACCES`).
 * @throws {SyscallError}
 */
export function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code in Errno) {
      throw new SyscallError("readdir", Errno[code as ErrnoName], { target: path });
    }
    throw error;
  }
}

/**
 * Reads `file` from its position to end of file (a virtual file, a BPF iterator) into one growing buffer, so
 * files that come 4 KiB per read (sysfs, seq_file) are copied once. `sizeHint` is the expected length.
 * @throws {SyscallError} naming the fd's label
 */
export function readToEnd(file: Fd, sizeHint = 0): Uint8Array<ArrayBuffer> {
  // One byte more than the hint: a read returning 0 there proves the end without growing.
  let out = new Uint8Array(Math.max(sizeHint + 1, READ_SIZE));
  let length = 0;
  for (;;) {
    if (length === out.length) {
      const grown = new Uint8Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    // At most READ_SIZE per call: a count of megabytes made each 4 KiB sysfs read far slower (measured).
    const space = out.subarray(length, length + READ_SIZE);
    const n = Number(check(libc().read(file.fd, space, BigInt(space.length)), "read", file.label));
    if (n === 0) break;
    length += n;
  }
  return out.slice(0, length);
}

/** Bytes {@link readToEnd} asks for per read(2). */
const READ_SIZE = 65536;

/** `readlink(2)` of `path`, e.g. `/proc/self/fd/3` → `/dmabuf:name`. @throws {SyscallError} */
export function readLink(path: string): string {
  const out = new Uint8Array(4096);
  const n = Number(check(libc().readlink(cString(path), out, BigInt(out.length)), "readlink", path));
  return new TextDecoder().decode(out.subarray(0, n));
}

/** `statx(2)` of an open fd (`AT_EMPTY_PATH`). @throws {SyscallError} */
export function fstat(fd: number, label = `fd ${fd}`): Statx {
  const out = new Uint8Array(StatxStruct.SIZE);
  check(libc().statx(fd, cString(""), AT_EMPTY_PATH, STATX_BASIC_STATS, out), "statx", label);
  return StatxStruct.decode(out);
}

/** `statx(2)` of a path, following symlinks. @throws {SyscallError} */
export function stat(path: string): Statx {
  const out = new Uint8Array(StatxStruct.SIZE);
  const AT_FDCWD = -100;
  check(libc().statx(AT_FDCWD, cString(path), 0, STATX_BASIC_STATS, out), "statx", path);
  return StatxStruct.decode(out);
}

/** `lseek(2)`; returns the new offset. @throws {SyscallError} */
export function lseek(fd: number, offset: bigint, whence: number, label = `fd ${fd}`): bigint {
  return check(libc().lseek(fd, offset, whence), "lseek", label);
}

/** `fcntl(fd, cmd, arg)`. @throws {SyscallError} */
export function fcntl(fd: number, cmd: number, arg = 0, label = `fd ${fd}`): number {
  return check(libc().fcntl(fd, cmd, BigInt(arg)), "fcntl", label);
}

/** Sets or clears `FD_CLOEXEC`, e.g. to hand an fd to a child process. @throws {SyscallError} */
export function setCloseOnExec(fd: number, enabled: boolean): void {
  fcntl(fd, Fcntl.F_SETFD, enabled ? Fcntl.FD_CLOEXEC : 0);
}

/**
 * A close-on-exec duplicate of `fd` above the standard streams (`F_DUPFD_CLOEXEC`, lowest free number >= 3),
 * owned by the caller: closing it leaves `fd` open.
 * @throws {SyscallError} EBADF when `fd` is not open
 */
export function dupCloexec(fd: number, label = `fd ${fd}`): Fd {
  return new Fd(fcntl(fd, Fcntl.F_DUPFD_CLOEXEC, FIRST_NON_STDIO_FD, label), label);
}

/** The first fd number after stdin, stdout and stderr. */
const FIRST_NON_STDIO_FD = 3;

/** The fd flags (`F_GETFD`: `FD_CLOEXEC`) of `fd`, or null when it is not an open descriptor of this process. */
export function fdFlags(fd: number): number | null {
  const flags = libc().fcntl(fd, Fcntl.F_GETFD, 0n);
  return flags === -1 ? null : flags;
}

/**
 * One synchronous `poll(2)` over `fds` with a timeout in ms (0 = just look). Returns the fds with `revents`.
 * EINTR is reported as "nothing ready", so callers that loop in slices stay responsive to signals.
 * @throws {SyscallError} on other errors
 */
export function poll(fds: readonly PollFd[], timeoutMs: number): PollFd[] {
  const bytes = PollFdStruct.encodeArray(fds);
  const n = libc().poll(bytes, BigInt(fds.length), timeoutMs);
  if (n === -1) {
    try {
      check(n, "poll");
    } catch (error) {
      if (error instanceof SyscallError && error.is("EINTR")) return fds.map((f) => ({ ...f, revents: 0 }));
      throw error;
    }
  }
  return PollFdStruct.decodeArray(bytes);
}

/** `memfd_create(2)` flags. */
export const MemfdFlags = { MFD_CLOEXEC: 0x1, MFD_ALLOW_SEALING: 0x2 } as const;

/**
 * A new memfd of `size` bytes (`memfd_create` + `ftruncate`), close-on-exec.
 * @throws {SyscallError}
 */
export function memfdCreate(name: string, size: bigint, flags = 0): Fd {
  const fd = check(libc().memfd_create(cString(name), flags | MemfdFlags.MFD_CLOEXEC), "memfd_create", name);
  const file = new Fd(fd, `memfd:${name}`);
  try {
    check(libc().ftruncate(fd, size), "ftruncate", file.label);
  } catch (error) {
    file[Symbol.dispose]();
    throw error;
  }
  return file;
}

/** The effective uid of this process. */
export function geteuid(): number {
  return libc().geteuid();
}

/**
 * Passes `file` on after checking what it is (its `/proc/self/fd/N` link): `refuse` returns the error for a
 * target of the wrong kind, or null. A refused (or closed) `file` is closed, so ownership always moves: to
 * the caller's wrapper, or to nobody. The one check behind `DmaBuf.from` and `SyncFile.from`.
 * @throws the error `refuse` returns; {@link SyscallError} EBADF when `file` is not open
 */
export function checkedFd(file: Fd, refuse: (target: string) => Error | null): Fd {
  try {
    const refused = refuse(readLink(`/proc/self/fd/${file.fd}`));
    if (refused !== null) throw refused;
  } catch (error) {
    file[Symbol.dispose]();
    throw error;
  }
  return file;
}
