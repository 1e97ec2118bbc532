/**
 * Which processes hold which dma-bufs, from `/proc` alone (no debugfs): dma-buf fds from
 * `/proc/<pid>/fdinfo/<fd>` (a dma-buf's fdinfo has an `exp_name:` line) and mappings from `/proc/<pid>/maps`
 * (paths `/dmabuf:<name>`), as Android's libdmabufinfo gathers them.
 *
 * Reading another process's fdinfo and maps needs `PTRACE_MODE_READ` on it (5.14+; root before), so a scan of
 * every process skips the ones it may not read and says how many. Processes and fds that vanish during the
 * scan are skipped silently: that is a race, not an error.
 *
 * ```ts
 * const { processes, skipped } = scanAllProcesses();
 * const mine = scanProcess(Deno.pid);
 * ```
 * @module
 */

import { type ErrnoName, SyscallError } from "./errno.ts";
import { listDir, OpenFlags, readLink, readProcSysFile, stat } from "./fd.ts";
import { type Fdinfo, isDmaBufFdinfo, parseFdinfo } from "./text/fdinfo.ts";
import { DMABUF_PATH_PREFIX, type DmaBufMapping, parseDmaBufMaps } from "./text/maps.ts";

/** The default procfs mount. */
export const PROC_ROOT = "/proc";

/** One fd of a process that refers to a dma-buf, from its fdinfo. */
export interface DmaBufFdRef {
  /** The fd number in that process. */
  fd: number;
  /** The dma-buf's inode (fdinfo `ino:` on 5.14+, else statx of `/proc/<pid>/fd/<fd>`). */
  inode: number;
  /** Buffer size in bytes. */
  size: number;
  /**
   * fdinfo `count:` = `file_count - 1`, leaving out the reference the fdinfo read itself holds: the same
   * quantity as bufinfo's raw `count` (fds in every process + mmaps + kernel references).
   */
  count: number;
  /** Exporter name (`exp_name`). */
  exporter: string;
  /** Name set with `DMA_BUF_SET_NAME`, or null when never set. */
  name: string | null;
  /** The file's `f_flags` (fdinfo `flags:` without `O_CLOEXEC`, which is a per-fd flag): comparable to bufinfo. */
  flags: number;
  /** Whether this fd is close-on-exec. */
  cloexec: boolean;
}

/** The dma-bufs one process refers to. */
export interface ProcessDmaBufs {
  /** Process id. */
  pid: number;
  /** `/proc/<pid>/comm`, or null when it could not be read. */
  comm: string | null;
  /** Its dma-buf fds, by fd number. */
  fds: DmaBufFdRef[];
  /** Its dma-buf mappings (one per VMA), in address order. */
  maps: DmaBufMapping[];
}

/** A process a scan could not read. */
export interface SkippedProcess {
  /** Process id. */
  pid: number;
  /** The errno name, e.g. `EACCES`. */
  code: string;
}

/** The result of {@link scanAllProcesses}. */
export interface ProcessScan {
  /** Processes that refer to at least one dma-buf, by pid. */
  processes: ProcessDmaBufs[];
  /** Processes whose fdinfo or maps could not be read (not counting ones that exited during the scan). */
  skipped: SkippedProcess[];
  /** How many processes were looked at. */
  scanned: number;
}

/** Options of {@link scanProcess} and {@link scanAllProcesses}. */
export interface ScanOptions {
  /** Where procfs is mounted; default {@link PROC_ROOT} (tests point it at a fake tree). */
  procRoot?: string;
}

/** Errors that mean "this process or fd is gone" during a scan. */
const GONE: readonly ErrnoName[] = ["ENOENT", "ESRCH"];

function isGone(error: unknown): boolean {
  return error instanceof SyscallError && GONE.some((name) => error.is(name));
}

/** The text of `/proc/self/mounts`, or null when it cannot be read (no /proc in this mount namespace). */
export function readMounts(): string | null {
  try {
    return readProcSysFile("/proc/self/mounts");
  } catch {
    return null;
  }
}

function readFdRef(dir: string, fd: number): DmaBufFdRef | null {
  // readlink is one syscall and tells a dma-buf (`/dmabuf:...`) from everything else; fdinfo confirms.
  try {
    if (!readLink(`${dir}/fd/${fd}`).startsWith(DMABUF_PATH_PREFIX)) return null;
  } catch (error) {
    if (isGone(error)) return null;
    // Fall through: the fdinfo read below reports the real problem or succeeds.
  }
  const info = parseFdinfo(readProcSysFile(`${dir}/fdinfo/${fd}`));
  if (!isDmaBufFdinfo(info)) return null;
  return fdRefOf(fd, info, info.ino ?? Number(stat(`${dir}/fd/${fd}`).ino));
}

/** The {@link DmaBufFdRef} of `fd` from its parsed fdinfo and its inode. */
export function fdRefOf(fd: number, info: Fdinfo, inode: number): DmaBufFdRef {
  return {
    fd,
    inode,
    size: info.size ?? 0,
    count: info.count ?? 0,
    exporter: info.expName ?? "",
    name: info.name,
    flags: info.flags & ~OpenFlags.O_CLOEXEC,
    cloexec: (info.flags & OpenFlags.O_CLOEXEC) !== 0,
  };
}

/**
 * The dma-buf fds and mappings of process `pid`.
 * @throws {SyscallError} ENOENT when there is no such process, EACCES when its fdinfo or maps may not be read
 */
export function scanProcess(pid: number, options: ScanOptions = {}): ProcessDmaBufs {
  const dir = `${options.procRoot ?? PROC_ROOT}/${pid}`;
  const fdNumbers = listDir(`${dir}/fdinfo`).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
  const fds: DmaBufFdRef[] = [];
  for (const fd of fdNumbers) {
    try {
      const ref = readFdRef(dir, fd);
      if (ref !== null) fds.push(ref);
    } catch (error) {
      if (!isGone(error)) throw error; // the fd was closed since the listing
    }
  }
  const maps = parseDmaBufMaps(readProcSysFile(`${dir}/maps`));
  let comm: string | null = null;
  try {
    comm = readProcSysFile(`${dir}/comm`).replace(/\n$/, "");
  } catch {
    // comm is world-readable; if even that fails the process is exiting: keep what was read.
  }
  return { pid, comm, fds, maps };
}

/**
 * Scans every process in procfs and returns those that refer to a dma-buf, plus the ones that could not be
 * read (typically `EACCES` for other users' processes when not root).
 * @throws {SyscallError} only when procfs itself cannot be listed
 */
export function scanAllProcesses(options: ScanOptions = {}): ProcessScan {
  const root = options.procRoot ?? PROC_ROOT;
  const pids = listDir(root).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  const processes: ProcessDmaBufs[] = [];
  const skipped: SkippedProcess[] = [];
  for (const pid of pids) {
    try {
      const found = scanProcess(pid, options);
      if (found.fds.length > 0 || found.maps.length > 0) processes.push(found);
    } catch (error) {
      if (isGone(error)) continue;
      if (error instanceof SyscallError) skipped.push({ pid, code: error.code });
      else throw error;
    }
  }
  return { processes, skipped, scanned: pids.length };
}
