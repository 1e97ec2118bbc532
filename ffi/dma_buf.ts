/**
 * A dma-buf fd as a disposable object: size, identity, name, CPU-access brackets, mapping and its implicit
 * fences as sync_files (`include/uapi/linux/dma-buf.h`).
 * @module
 */

import { SyscallError } from "./errno.ts";
import { checkedFd, dupCloexec, Fd, fstat, lseek, readLink, readProcSysFile, Whence } from "./fd.ts";
import { DmaBufSyncFlags } from "./ioctl.ts";
import { cString } from "./libc.ts";
import { type MapOptions, Mapping } from "./mapping.ts";
import { DmaBufSync, DmaBufSyncFile, NAME_LEN } from "./structs.ts";
import { type Fdinfo, parseFdinfo } from "./text/fdinfo.ts";

/** The CPU access a SYNC bracket or a sync_file covers. */
export type Access = "read" | "write" | "rw";

/** `DMA_BUF_SYNC_READ`/`WRITE`/`RW` for an {@link Access}. */
export function accessFlags(access: Access): number {
  switch (access) {
    case "read":
      return DmaBufSyncFlags.DMA_BUF_SYNC_READ;
    case "write":
      return DmaBufSyncFlags.DMA_BUF_SYNC_WRITE;
    case "rw":
      return DmaBufSyncFlags.DMA_BUF_SYNC_RW;
  }
}

/** The kernel from which `DMA_BUF_SET_NAME` renames a buffer that has attachments (EBUSY before). */
export const SET_NAME_ATTACHED_KERNEL = "5.17";

/** The longest name `DMA_BUF_SET_NAME` accepts, in bytes (`DMA_BUF_NAME_LEN` - 1 for the NUL). */
export const MAX_NAME_BYTES = NAME_LEN - 1;

/** Prefix of `readlink /proc/self/fd/N` for a dma-buf (`dmabuffs_dname`: `/dmabuf:<name>`). */
const DMABUF_LINK_PREFIX = "/dmabuf:";

/** What `/proc/self/fd/<fd>` links to: a path, `/dmabuf:<name>`, `anon_inode:sync_file`, `socket:[…]`, ... */
export function describeFd(fd: number): string {
  return readLink(`/proc/self/fd/${fd}`);
}

/** Thrown when an fd that should be a dma-buf is something else; the message says what it is. */
export class NotADmaBufError extends Error {
  /** What the fd is, from readlink. */
  readonly actual: string;
  /** Makes the error for `label`, which links to `actual`. */
  constructor(label: string, actual: string) {
    super(`${label} is not a dma-buf: it is ${actual}`);
    this.name = "NotADmaBufError";
    this.actual = actual;
  }
}

/**
 * Encoded `struct dma_buf_sync` for every flags value up to the valid mask (and one past it, for error tests).
 * `DMA_BUF_IOCTL_SYNC` is `_IOW`: the kernel only reads the argument, so one encoding serves every call, and
 * the per-call allocation (which costs more than the ioctl itself) is avoided.
 */
const SYNC_ARGS = Array.from(
  { length: DmaBufSyncFlags.DMA_BUF_SYNC_VALID_FLAGS_MASK + 2 },
  (_, f) => DmaBufSync.encode({ flags: f }),
);

function syncArg(flags: number): Uint8Array<ArrayBuffer> {
  return SYNC_ARGS[flags] ?? DmaBufSync.encode({ flags });
}

/** `struct dma_buf_export_sync_file` requests by access flags, copied into a buffer's scratch argument. */
const EXPORT_ARGS = Array.from(
  { length: DmaBufSyncFlags.DMA_BUF_SYNC_RW + 1 },
  (_, flags) => DmaBufSyncFile.encode({ flags, fd: -1 }),
);

/** An open dma-buf. */
export class DmaBuf implements Disposable {
  /** The owned fd. */
  readonly file: Fd;
  /** Reused argument of EXPORT_SYNC_FILE (the kernel writes the new fd into it). */
  readonly #exportArg = new Uint8Array(DmaBufSyncFile.SIZE);

  /** Wraps an fd known to be a dma-buf (from an allocation); takes ownership. */
  constructor(file: Fd) {
    this.file = file;
  }

  /**
   * Takes ownership of an open fd after checking that it is a dma-buf; closes it when it is not. The one way
   * to make a DmaBuf of an fd from elsewhere (see {@link DmaBuf.duplicate} for fds this process was given).
   * @throws {NotADmaBufError} when it is something else (saying what)
   * @throws {SyscallError} EBADF when it is not open
   */
  static from(file: Fd): DmaBuf {
    const refuse = (target: string) =>
      target.startsWith(DMABUF_LINK_PREFIX) ? null : new NotADmaBufError(file.label, target);
    return new DmaBuf(checkedFd(file, refuse));
  }

  /**
   * A close-on-exec duplicate of `fd` as a dma-buf of its own, leaving `fd` to its owner.
   * @throws {NotADmaBufError} when `fd` is something else
   * @throws {SyscallError} EBADF when it is not open
   */
  static duplicate(fd: number, label = `fd ${fd}`): DmaBuf {
    return DmaBuf.from(dupCloexec(fd, label));
  }

  /** The fd number. */
  get fd(): number {
    return this.file.fd;
  }

  /** The buffer size, from `lseek(fd, 0, SEEK_END)` (the only seek a dma-buf allows). */
  size(): number {
    return Number(lseek(this.fd, 0n, Whence.SEEK_END, this.file.label));
  }

  /** The dma-buf's inode number, which bufinfo, fdinfo and sysfs stats all key on. */
  inode(): number {
    return Number(fstat(this.fd, this.file.label).ino);
  }

  /** This process's `/proc/self/fdinfo/<fd>` of the buffer: size, count, exporter, name. */
  fdinfo(): Fdinfo {
    return parseFdinfo(readProcSysFile(`/proc/self/fdinfo/${this.fd}`));
  }

  /**
   * `DMA_BUF_SET_NAME`: names the buffer (shown in fdinfo, bufinfo, /proc/<pid>/maps).
   * @throws {RangeError} when the name is longer than {@link MAX_NAME_BYTES}
   * @throws {SyscallError} e.g. EBUSY on kernels before 5.17 when a device is attached (the message says so)
   */
  setName(name: string): void {
    const bytes = cString(name);
    if (bytes.length > NAME_LEN) {
      throw new RangeError(`Name "${name}" is ${bytes.length - 1} bytes: at most ${MAX_NAME_BYTES} fit`);
    }
    try {
      this.file.ioctl("DMA_BUF_SET_NAME", bytes);
    } catch (error) {
      if (!(error instanceof SyscallError && error.is("EBUSY"))) throw error;
      // dma_buf_set_name refused to rename a buffer with attachments until 5.17 (5.10's dma-buf.c: -EBUSY when
      // the attachment list is not empty; 6.1's has no such check): that is the only EBUSY it returns.
      throw new SyscallError(error.syscall, error.errno, {
        target: this.file.label,
        description: `a device is attached to the buffer, and kernels before ${SET_NAME_ATTACHED_KERNEL} ` +
          "refuse to rename an attached buffer",
      });
    }
  }

  /**
   * `DMA_BUF_IOCTL_SYNC` with START or END for `access`, restarted on EINTR and EAGAIN as the kernel
   * documentation asks. A START waits (without timeout) for the fences the access conflicts with.
   * @throws {SyscallError}
   */
  sync(phase: "start" | "end", access: Access): void {
    const flags = accessFlags(access) |
      (phase === "end" ? DmaBufSyncFlags.DMA_BUF_SYNC_END : DmaBufSyncFlags.DMA_BUF_SYNC_START);
    this.syncRaw(flags);
  }

  /**
   * Opens a CPU-access bracket: `DMA_BUF_SYNC_START` now, `DMA_BUF_SYNC_END` when the returned object is
   * disposed or ended, also when the access in between throws:
   * `using _cpu = buffer.beginCpuAccess("write"); mapping.fill(pattern);`
   * @throws {SyscallError} from START (then no END is owed)
   */
  beginCpuAccess(access: Access): CpuAccess {
    this.sync("start", access);
    return new CpuAccess(this, access);
  }

  /** `DMA_BUF_IOCTL_SYNC` with raw flags (for error-path tests), restarted on EINTR and EAGAIN. */
  syncRaw(flags: number): void {
    const arg = syncArg(flags);
    for (;;) {
      try {
        this.file.ioctl("DMA_BUF_IOCTL_SYNC", arg);
        return;
      } catch (error) {
        if (error instanceof SyscallError && (error.is("EINTR") || error.is("EAGAIN"))) continue;
        throw error;
      }
    }
  }

  /** Maps the whole buffer (or from `offset`) shared; writable only if asked. @throws {SyscallError} */
  map(options: MapOptions = {}): Mapping {
    const offset = options.offset ?? 0;
    return Mapping.map(this.file, this.size() - offset, options);
  }

  /**
   * `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` (6.0+): a sync_file of the buffer's current fences — for `read`, the
   * writers; for `write` or `rw`, all of them. Signalled at once (a stub fence) when the buffer is idle.
   * @throws {SyscallError} ENOTTY on kernels before 6.0
   */
  exportSyncFile(access: Access): Fd {
    const arg = this.#exportArg;
    arg.set(EXPORT_ARGS[accessFlags(access)]!);
    this.file.ioctl("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", arg);
    return new Fd(DmaBufSyncFile.decode(arg).fd, `sync_file exported from ${this.file.label}`);
  }

  /**
   * `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` (6.0+): adds the sync_file's fences to the buffer as read or write fences.
   * @throws {SyscallError} ENOTTY before 6.0, EINVAL when `syncFile` is not a sync_file
   */
  importSyncFile(syncFile: number, access: Access): void {
    this.file.ioctl(
      "DMA_BUF_IOCTL_IMPORT_SYNC_FILE",
      DmaBufSyncFile.encode({ flags: accessFlags(access), fd: syncFile }),
    );
  }

  /** Closes the fd; idempotent. */
  close(): void {
    this.file.close();
  }

  /** Closes the fd, swallowing errors. */
  [Symbol.dispose](): void {
    this.file[Symbol.dispose]();
  }
}

/** An open CPU-access bracket of a dma-buf, from {@link DmaBuf.beginCpuAccess}; disposing it ends the bracket. */
export class CpuAccess implements Disposable {
  /** The access the bracket covers. */
  readonly access: Access;
  readonly #buffer: DmaBuf;
  #open = true;

  /** Wraps a bracket whose START `buffer` has issued. */
  constructor(buffer: DmaBuf, access: Access) {
    this.#buffer = buffer;
    this.access = access;
  }

  /** `DMA_BUF_SYNC_END` for the bracket's access; idempotent. @throws {SyscallError} */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#buffer.sync("end", this.access);
  }

  /** Ends the bracket (see {@link CpuAccess.end}). */
  [Symbol.dispose](): void {
    this.end();
  }
}
