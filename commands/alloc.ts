/**
 * `dmabuf alloc`: allocate dma-bufs from a heap or udmabuf, name and fill them, then print them, hold them or
 * hand them to a command.
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { formatBytes } from "./toolkit/units.ts";
import type { DmaBuf } from "../ffi/dma_buf.ts";
import { formatPattern, type Pattern } from "../ffi/pattern.ts";
import { allocateBuffers } from "./buffer_select.ts";
import { checkHandOff, FIRST_CHILD_FD, handOff, wantsExec, wantsHold } from "./hand_off.ts";
import type { HandOffFlags } from "./toolkit/flags.ts";

/** Flags of `dmabuf alloc`. */
export interface AllocFlags extends CommonFlags, HandOffFlags {
  /** Heap name (`system` by default; `cma` alias; `udmabuf`). */
  readonly heap: string;
  /** Bytes per buffer. */
  readonly size: number;
  /** How many buffers. */
  readonly count: number;
  /** `DMA_BUF_SET_NAME` for every buffer. */
  readonly name?: string;
  /** Pattern written into every buffer inside a SYNC write bracket. */
  readonly fill?: Pattern;
}

/** One allocated buffer as printed (`--json` array element). */
export interface AllocatedBuffer {
  /** fd number (in this process; with `--exec`, the child's number). */
  fd: number;
  /** dma-buf inode (bufinfo, fdinfo and sysfs stats key on it). */
  inode: number;
  /** Real size in bytes (page-rounded by the kernel). */
  size: number;
  /** Heap it came from, resolved (`reserved` for `cma`), or `udmabuf`. */
  heap: string;
  /** `exp_name` from fdinfo. */
  exporter: string | null;
  /** The buffer's name, or null when unnamed. */
  name: string | null;
}

/** Writes `pattern` over the whole buffer between `DMA_BUF_SYNC_START` and `DMA_BUF_SYNC_END` (write). */
export function fillBuffer(buffer: DmaBuf, pattern: Pattern): void {
  using _cpu = buffer.beginCpuAccess("write");
  using mapping = buffer.map({ write: true });
  mapping.fill(pattern);
}

/** What alloc reports about `buffer`, read back from the kernel (fdinfo, lseek, statx). */
export function describeBuffer(buffer: DmaBuf, heap: string): AllocatedBuffer {
  const info = buffer.fdinfo();
  return {
    fd: buffer.fd,
    inode: info.ino ?? buffer.inode(),
    size: buffer.size(),
    heap,
    exporter: info.expName,
    name: info.name,
  };
}

/** Allocates, fills and reports buffers; holds them or runs a command with them when asked. */
export async function alloc(this: DmabufContext, flags: AllocFlags, ...command: string[]): Promise<void> {
  checkHandOff(flags, command);
  const out = this.output(flags);
  const request = { heap: flags.heap, size: flags.size, count: flags.count };
  using set = allocateBuffers(flags.name === undefined ? request : { ...request, name: flags.name });
  if (flags.fill !== undefined) { for (const buffer of set.buffers) fillBuffer(buffer, flags.fill); }
  const buffers = set.buffers.map((buffer) => describeBuffer(buffer, set.heap));
  const fds = buffers.map((buffer) => buffer.fd);
  if (wantsExec(flags)) {
    // stdout belongs to the child: alloc only says what it handed over, on stderr, when asked.
    if (out.verbose) {
      buffers.forEach((b, i) =>
        out.note(
          `dmabuf: fd ${FIRST_CHILD_FD + i}: inode ${b.inode}, ${formatBytes(b.size)} from ${b.heap}` +
            (b.name === null ? "" : `, name ${b.name}`),
        )
      );
    }
  } else if (out.json) {
    if (!wantsHold(flags)) out.data(buffers);
  } else {
    out.table([
      { header: "FD", cell: (b: AllocatedBuffer) => String(b.fd), right: true },
      { header: "INODE", cell: (b) => String(b.inode), right: true },
      { header: "SIZE", cell: (b) => String(b.size), right: true },
      { header: "HEAP", cell: (b) => b.heap },
      { header: "EXPORTER", cell: (b) => b.exporter ?? "-" },
      { header: "NAME", cell: (b) => b.name ?? "-" },
    ], buffers);
    if (flags.fill !== undefined && out.verbose) out.note(`dmabuf: filled with ${formatPattern(flags.fill)}`);
  }
  await handOff(this, { flags, command, fds, ready: { buffers } });
}
