/**
 * `dmabuf fence import`: a sync_file's fences added to a dma-buf (`DMA_BUF_IOCTL_IMPORT_SYNC_FILE`).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError } from "../toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { fenceStatusText } from "../../ffi/sync_file.ts";
import { bufferSource, selectBuffer } from "../buffer_select.ts";
import { checkHandOff, FIRST_CHILD_FD, handOff, wantsExec, wantsHold } from "../hand_off.ts";
import type { BufferSelectFlags, HandOffFlags } from "../toolkit/flags.ts";
import {
  accessOf,
  bufferLabel,
  IMPORT_SYNC_FILE_MISSING,
  openSyncFile,
  selectionLabel,
} from "./selection.ts";
import { syncFileJson } from "./sync_file_view.ts";

/** Flags of `dmabuf fence import`. */
export interface FenceImportFlags extends CommonFlags, BufferSelectFlags, HandOffFlags {
  /** The sync_file's fd (of this process, or of `--pid`). */
  readonly syncFile: number;
  /** Import as a read fence. */
  readonly read: boolean;
  /** Import as a write fence; the default. */
  readonly write: boolean;
}

/**
 * `dmabuf fence import`: `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` of a sync_file into a dma-buf as a read or write
 * fence; then, for a fresh buffer, holds it or hands it on.
 */
export async function fenceImport(
  this: DmabufContext,
  flags: FenceImportFlags,
  ...command: string[]
): Promise<void> {
  checkHandOff(flags, command);
  const access = accessOf(flags);
  const out = this.output(flags);
  bufferSource(flags); // usage errors first, before any fd is taken
  using syncFile = openSyncFile({ fd: flags.syncFile, pid: flags.pid });
  using buffer = selectBuffer(flags);
  const state = syncFile.info();
  try {
    buffer.importSyncFile(syncFile.fd, access);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOTTY")) {
      throw new CliError(IMPORT_SYNC_FILE_MISSING, { cause: error });
    }
    throw error;
  }
  const exec = wantsExec(flags);
  const bufferFd = exec ? FIRST_CHILD_FD : buffer.fd;
  const document = {
    fd: bufferFd,
    inode: buffer.inode(),
    access,
    syncFileFd: flags.syncFile,
    syncFile: syncFileJson(state),
  };
  const summary = `imported sync_file ${selectionLabel({ fd: flags.syncFile, pid: flags.pid })} ` +
    `(${state.name === null ? "?" : `"${state.name}"`}, ${fenceStatusText(state.status)}) into dma-buf ${
      bufferLabel(flags, buffer)
    } ` +
    `(inode ${document.inode}) as a ${access} fence`;
  if (exec) {
    if (out.verbose) out.note(`dmabuf: ${summary}`);
  } else if (out.json) {
    if (!wantsHold(flags)) out.data(document);
  } else {
    out.line(summary);
  }
  await handOff(this, { flags, command, fds: [buffer.fd], ready: document });
}
