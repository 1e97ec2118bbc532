/**
 * The end of `fence export`, `fence import` and `fence merge`: show the sync_file made, then hold it or hand it
 * to a command.
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import type { Output } from "../toolkit/output.ts";
import { fenceStatusText, type SyncFileState } from "../../ffi/sync_file.ts";
import { handOff, wantsExec, wantsHold } from "../hand_off.ts";
import type { HandOffFlags } from "../toolkit/flags.ts";
import { renderSyncFile } from "./sync_file_view.ts";

/** What {@link showAndHandOff} shows and passes on. */
export interface MadeSyncFile {
  flags: HandOffFlags & CommonFlags;
  command: string[];
  out: Output;
  /** Heading of the human view. */
  title: string;
  state: SyncFileState;
  /** The `--json` document, also the `--hold` ready document. */
  document: Record<string, unknown>;
  /** The sync_file's fd in this process. */
  syncFd: number;
}

/**
 * Shows a sync_file this command made (stdout belongs to the child with `--exec`, so only a note with
 * `--verbose` then), and holds it or hands it to the command.
 */
export async function showAndHandOff(context: DmabufContext, made: MadeSyncFile): Promise<void> {
  const { flags, out } = made;
  if (wantsExec(flags)) {
    if (out.verbose) out.note(`dmabuf: ${made.title}: ${fenceStatusText(made.state.status)}`);
  } else if (out.json) {
    if (!wantsHold(flags)) out.data(made.document);
  } else {
    renderSyncFile(out, { title: made.title, state: made.state });
  }
  await handOff(context, { flags, command: made.command, fds: [made.syncFd], ready: made.document });
}
