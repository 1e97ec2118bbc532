/**
 * `dmabuf fence merge`: sync_files made one (`SYNC_IOC_MERGE`, chained for more than two).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { UsageError } from "../toolkit/errors.ts";
import { DEFAULT_MERGE_NAME, SyncFile } from "../../ffi/sync_file.ts";
import { checkHandOff, FIRST_CHILD_FD, wantsExec } from "../hand_off.ts";
import type { HandOffFlags } from "../toolkit/flags.ts";
import { openSyncFile } from "./selection.ts";
import { showAndHandOff } from "./show.ts";
import { syncFileJson } from "./sync_file_view.ts";

/** Flags of `dmabuf fence merge`. */
export interface FenceMergeFlags extends CommonFlags {
  /** The sync_files to merge (two or more). */
  readonly fd: readonly number[];
  /** The process holding them. */
  readonly pid?: number;
  /** Name of the merged sync_file. */
  readonly name?: string;
}

/**
 * Merges the selected sync_files (`SYNC_IOC_MERGE`, chained for more than two); the caller owns the result.
 * @throws {UsageError} for fewer than two fds
 * @throws {CliError} for a bad selection
 */
export function mergeSelected(flags: FenceMergeFlags): SyncFile {
  const fds = flags.fd;
  if (fds.length < 2) {
    throw new UsageError(`fence merge needs two sync_files: give --fd twice (got ${fds.length})`);
  }
  const name = flags.name ?? DEFAULT_MERGE_NAME;
  const [first, ...rest] = fds.map((fd) => ({ fd, pid: flags.pid }));
  let merged = openSyncFile(first!);
  try {
    for (const selection of rest) {
      using next = openSyncFile(selection);
      const combined = merged.merge(next, name);
      merged.close();
      merged = combined;
    }
  } catch (error) {
    merged.close();
    throw error;
  }
  return merged;
}

/** Flags of `dmabuf fence merge` with the hand-off. */
export interface FenceMergeCommandFlags extends FenceMergeFlags, HandOffFlags {}

/** `dmabuf fence merge`: `SYNC_IOC_MERGE` of sync_files; prints the result, then holds it or hands it on. */
export async function fenceMerge(
  this: DmabufContext,
  flags: FenceMergeCommandFlags,
  ...command: string[]
): Promise<void> {
  checkHandOff(flags, command);
  const out = this.output(flags);
  using merged = mergeSelected(flags);
  const state = merged.info();
  const exec = wantsExec(flags);
  const fd = exec ? FIRST_CHILD_FD : merged.fd;
  const document = { fd, sources: flags.fd, pid: flags.pid ?? null, syncFile: syncFileJson(state) };
  const title = `merged sync_file fd ${fd}`;
  await showAndHandOff(this, { flags, command, out, title, state, document, syncFd: merged.fd });
}
