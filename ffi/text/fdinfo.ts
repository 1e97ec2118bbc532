/**
 * Parser of `/proc/<pid>/fdinfo/<fd>` (`fs/proc/fd.c` `seq_show` plus `dma_buf_show_fdinfo`).
 * @module
 */

/** The fields of an fdinfo file; the dma-buf ones are present only for dma-bufs. */
export interface Fdinfo {
  /** File position. */
  pos: number;
  /** `f_flags` in octal as printed (`02000002` = `O_RDWR|O_CLOEXEC`). */
  flags: number;
  /** Mount id. */
  mntId: number;
  /** Inode number (5.14+; null before). */
  ino: number | null;
  /** dma-buf: size in bytes. */
  size: number | null;
  /** dma-buf: `file_count - 1` (fd refs, mmaps and kernel refs, not counting the read itself). */
  count: number | null;
  /** dma-buf: exporter name. The line's presence is what marks a dma-buf. */
  expName: string | null;
  /** dma-buf: name set with `DMA_BUF_SET_NAME`, or null when never set. */
  name: string | null;
}

/** Parses fdinfo text. Unknown lines are ignored; a missing line leaves its field null (or 0 for the generic ones). */
export function parseFdinfo(text: string): Fdinfo {
  const info: Fdinfo = {
    pos: 0,
    flags: 0,
    mntId: 0,
    ino: null,
    size: null,
    count: null,
    expName: null,
    name: null,
  };
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const key = line.slice(0, colon);
    // Values follow a single TAB; names may contain spaces and further tabs, so only that one is removed.
    const raw = line.slice(colon + 1);
    const value = raw.startsWith("\t") ? raw.slice(1) : raw.trimStart();
    switch (key) {
      case "pos":
        info.pos = Number(value);
        break;
      case "flags":
        info.flags = parseInt(value, 8);
        break;
      case "mnt_id":
        info.mntId = Number(value);
        break;
      case "ino":
        info.ino = Number(value);
        break;
      case "size":
        info.size = Number(value);
        break;
      case "count":
        info.count = Number(value);
        break;
      case "exp_name":
        info.expName = value;
        break;
      case "name":
        info.name = value;
        break;
    }
  }
  return info;
}

/** Whether parsed fdinfo describes a dma-buf (it has an `exp_name:` line, as libdmabufinfo tests). */
export function isDmaBufFdinfo(info: Fdinfo): boolean {
  return info.expName !== null;
}
