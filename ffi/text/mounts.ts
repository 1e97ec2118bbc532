/**
 * Parser of `/proc/mounts` (`/proc/self/mounts`, `fs/proc_namespace.c` `show_vfsmnt`), used to find where
 * debugfs is mounted.
 * @module
 */

/** One mount: device, mount point, filesystem type and options, with octal escapes (`\040`) decoded. */
export interface MountEntry {
  /** The source device (`debugfs`, `none`, `/dev/sda1`). */
  device: string;
  /** Where it is mounted. */
  mountPoint: string;
  /** The filesystem type (`debugfs`, `tracefs`, `ext4`). */
  fsType: string;
  /** Mount options as printed (`rw,relatime`). */
  options: string;
}

/** The usual debugfs mount point. */
export const DEFAULT_DEBUGFS = "/sys/kernel/debug";

// The kernel escapes space, tab, newline and backslash in paths as \ooo (`seq_path`/`mangle`).
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_all, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses mounts text; lines with fewer than four fields are skipped. */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 4) continue;
    out.push({
      device: unescape(fields[0]!),
      mountPoint: unescape(fields[1]!),
      fsType: fields[2]!,
      options: fields[3]!,
    });
  }
  return out;
}

/**
 * The debugfs mount point in mounts text: {@link DEFAULT_DEBUGFS} when debugfs is mounted there, else the
 * first debugfs mount; null when debugfs is not mounted.
 */
export function findDebugfs(text: string): string | null {
  const points = parseMounts(text).filter((m) => m.fsType === "debugfs").map((m) => m.mountPoint);
  if (points.length === 0) return null;
  return points.includes(DEFAULT_DEBUGFS) ? DEFAULT_DEBUGFS : points[0]!;
}

/** bufinfo relative to the debugfs mount point (`drivers/dma-buf/dma-buf.c`). */
export const BUFINFO_IN_DEBUGFS = "dma_buf/bufinfo";

/**
 * Where debugfs bufinfo is, from the mounts text: under the debugfs mount ({@link findDebugfs}); under
 * {@link DEFAULT_DEBUGFS} when the mounts could not be read (`null`: without /proc nothing says where debugfs
 * is, so the usual place is tried and reading it tells); `null` when debugfs is known not to be mounted.
 */
export function bufinfoPath(mounts: string | null): string | null {
  const debugfs = mounts === null ? DEFAULT_DEBUGFS : findDebugfs(mounts);
  return debugfs === null ? null : `${debugfs}/${BUFINFO_IN_DEBUGFS}`;
}
