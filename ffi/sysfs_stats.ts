/**
 * The dma-buf sysfs statistics (`CONFIG_DMABUF_SYSFS_STATS`, v5.13 to v6.18, deprecated):
 * `/sys/kernel/dmabuf/buffers/<inode>/{exporter_name,size}` (`drivers/dma-buf/dma-buf-sysfs-stats.c`).
 * World-readable, so it works without root; it has no names, counts, attachments or fences.
 * @module
 */

import { SyscallError } from "./errno.ts";
import { listDir, readProcSysFile } from "./fd.ts";

/** Where the per-buffer directories are. */
export const SYSFS_BUFFERS_DIR = "/sys/kernel/dmabuf/buffers";

/** One buffer's sysfs statistics. */
export interface SysfsBuffer {
  /** The inode number (the directory name). */
  inode: number;
  /** `size` in bytes. */
  size: number;
  /** `exporter_name`. */
  exporter: string;
}

/**
 * One buffer's statistics; null when its directory is gone (the buffer was freed meanwhile).
 * @throws {SyscallError} on errors other than ENOENT
 */
export function readSysfsBuffer(inode: number, dir: string = SYSFS_BUFFERS_DIR): SysfsBuffer | null {
  try {
    const size = Number(readProcSysFile(`${dir}/${inode}/size`).trim());
    const exporter = readProcSysFile(`${dir}/${inode}/exporter_name`).replace(/\n$/, "");
    return { inode, size, exporter };
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOENT")) return null;
    throw error;
  }
}

/**
 * Every buffer listed in sysfs, by inode. Buffers freed while reading are left out.
 * @throws {SyscallError} ENOENT when the kernel has no sysfs statistics
 */
export function readSysfsStats(dir: string = SYSFS_BUFFERS_DIR): SysfsBuffer[] {
  const inodes = listDir(dir).filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  return inodes.flatMap((inode) => readSysfsBuffer(inode, dir) ?? []);
}
