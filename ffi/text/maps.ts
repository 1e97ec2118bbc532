/**
 * Parser of the dma-buf lines of `/proc/<pid>/maps` (`fs/proc/task_mmu.c` `show_map_vma`): a mapping of a
 * dma-buf has the path `dmabuffs_dname` gives it, `/dmabuf:` or `/dmabuf:<name>`, and the buffer's inode.
 * @module
 */

/** The path prefix of a dma-buf mapping (`"/%s:%s"` of the dentry name `dmabuf` and the buffer name). */
export const DMABUF_PATH_PREFIX = "/dmabuf:";

/** One mapping of a dma-buf in a process. */
export interface DmaBufMapping {
  /** Start address of the VMA. */
  start: number;
  /** End address of the VMA (exclusive). */
  end: number;
  /** VMA length in bytes (`end - start`); may be less than the buffer when only part is mapped. */
  vmaSize: number;
  /** Permissions as printed, e.g. `rw-s`. */
  perms: string;
  /** File offset of the mapping in bytes. */
  offset: number;
  /** The dma-buf's inode number. */
  inode: number;
  /** The buffer's name from the path; null for an unnamed buffer (`/dmabuf:`). */
  name: string | null;
}

// start-end perms offset dev inode, then padding, then the path (which may contain spaces).
const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s+(.*)$/;

/** Parses one maps line; null when it is not a dma-buf mapping (or not a maps line at all). */
export function parseMapsLine(line: string): DmaBufMapping | null {
  if (!line.includes(DMABUF_PATH_PREFIX)) return null;
  const match = MAPS_LINE.exec(line);
  if (match === null) return null;
  const path = match[7]!;
  if (!path.startsWith(DMABUF_PATH_PREFIX)) return null;
  const start = parseInt(match[1]!, 16);
  const end = parseInt(match[2]!, 16);
  const name = path.slice(DMABUF_PATH_PREFIX.length);
  return {
    start,
    end,
    vmaSize: end - start,
    perms: match[3]!,
    offset: parseInt(match[4]!, 16),
    inode: Number(match[6]),
    name: name === "" ? null : name,
  };
}

/** The dma-buf mappings in the text of a `/proc/<pid>/maps` file, in file order. */
export function parseDmaBufMaps(text: string): DmaBufMapping[] {
  const out: DmaBufMapping[] = [];
  for (const line of text.split("\n")) {
    const mapping = parseMapsLine(line);
    if (mapping !== null) out.push(mapping);
  }
  return out;
}
