/**
 * `dmabuf fence export`: a dma-buf's implicit fences as one sync_file (`DMA_BUF_IOCTL_EXPORT_SYNC_FILE`).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError } from "../toolkit/errors.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { SyncFile } from "../../ffi/sync_file.ts";
import { selectBuffer } from "../buffer_select.ts";
import { checkHandOff, FIRST_CHILD_FD, wantsExec } from "../hand_off.ts";
import type { BufferSelectFlags, HandOffFlags } from "../toolkit/flags.ts";
import { accessOf, bufferLabel, EXPORT_SYNC_FILE_MISSING } from "./selection.ts";
import { showAndHandOff } from "./show.ts";
import { syncFileJson } from "./sync_file_view.ts";

/** Flags of `dmabuf fence export`. */
export interface FenceExportFlags extends CommonFlags, BufferSelectFlags, HandOffFlags {
  /** Export the writers' fences (what a CPU read waits for). */
  readonly read: boolean;
  /** Export all fences (what a CPU write waits for); the default. */
  readonly write: boolean;
}

/**
 * `dmabuf fence export`: `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` from a dma-buf; prints the sync_file's fences, then
 * holds it or hands it to a command.
 */
export async function fenceExport(
  this: DmabufContext,
  flags: FenceExportFlags,
  ...command: string[]
): Promise<void> {
  checkHandOff(flags, command);
  const access = accessOf(flags);
  const out = this.output(flags);
  using buffer = selectBuffer(flags);
  let file;
  try {
    file = buffer.exportSyncFile(access);
  } catch (error) {
    if (error instanceof SyscallError && error.is("ENOTTY")) {
      throw new CliError(EXPORT_SYNC_FILE_MISSING, {
        cause: error,
        hint: "fence-wait --dmabuf still works there (it polls the dma-buf)",
      });
    }
    throw error;
  }
  using syncFile = new SyncFile(file);
  const state = syncFile.info();
  const exec = wantsExec(flags);
  const fd = exec ? FIRST_CHILD_FD : syncFile.fd;
  const document = { fd, access, inode: buffer.inode(), syncFile: syncFileJson(state) };
  const title = `sync_file fd ${fd} exported (${access}) from dma-buf ${bufferLabel(flags, buffer)}`;
  await showAndHandOff(this, { flags, command, out, title, state, document, syncFd: syncFile.fd });
}
