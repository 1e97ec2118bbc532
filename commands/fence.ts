/**
 * `dmabuf fence info|export|import|merge`: sync_files from the shell — what they carry (`SYNC_IOC_FILE_INFO`),
 * a dma-buf's implicit fences as one (`DMA_BUF_IOCTL_EXPORT_SYNC_FILE`), one added to a dma-buf
 * (`DMA_BUF_IOCTL_IMPORT_SYNC_FILE`), two made one (`SYNC_IOC_MERGE`). Also the sync_file selection and
 * rendering that `fence-wait` and `fence sw-sync` share. (`fence sw-sync` lives in `fence_sw_sync.ts`.)
 * @module
 */

import type { CommonFlags, DmabufContext } from "./toolkit/context.ts";
import { CliError, UsageError } from "./toolkit/errors.ts";
import { formatDuration, type Output } from "./toolkit/output.ts";
import type { DmaBuf } from "../ffi/dma_buf.ts";
import { SyscallError } from "../ffi/errno.ts";
import { getFdOf } from "../ffi/pidfd.ts";
import {
  DEFAULT_MERGE_NAME,
  fenceError,
  type FenceState,
  fenceStatusText,
  monotonicNowNs,
  NotASyncFileError,
  SyncFile,
  type SyncFileState,
} from "../ffi/sync_file.ts";
import { bufferSource, DEFAULT_HEAP, selectBuffer } from "./buffer_select.ts";
import { checkHandOff, FIRST_CHILD_FD, handOff, wantsExec, wantsHold } from "./hand_off.ts";
import { explainPidError } from "./pid_errors.ts";
import type { BufferSelectFlags, HandOffFlags } from "./toolkit/flags.ts";

/** `active`, `signalled` or `error`: a status in words, for JSON. */
export type FenceStateName = "active" | "signalled" | "error";

/** The word for a status: 0 active, 1 signalled, negative error. */
export function stateName(status: number): FenceStateName {
  if (status > 0) return "signalled";
  return status === 0 ? "active" : "error";
}

/** One fence in `--json` output. */
export interface FenceJson {
  /** Driver name (`sw_sync`, `vgem`, `stub`, ...). */
  driver: string;
  /** Timeline name. */
  timeline: string;
  /** Raw status: 1 signalled, 0 active, negative errno. */
  status: number;
  /** The status in a word. */
  state: FenceStateName;
  /** The errno name of an error status (`ENOENT`), else null. */
  error: string | null;
  /** `sync_fence_info.flags`. */
  flags: number;
  /** CLOCK_MONOTONIC ns of signalling; 0 while active. */
  timestampNs: bigint;
}

/** A sync_file in `--json` output. */
export interface SyncFileJson {
  /** The sync_file's name. */
  name: string;
  /** Raw overall status. */
  status: number;
  /** The overall status in a word. */
  state: FenceStateName;
  /** The errno name of an error status, else null. */
  error: string | null;
  /** The fences. */
  fences: FenceJson[];
}

function fenceJson(fence: FenceState): FenceJson {
  return {
    driver: fence.driver,
    timeline: fence.timeline,
    status: fence.status,
    state: stateName(fence.status),
    error: fenceError(fence.status),
    flags: fence.flags,
    timestampNs: fence.timestampNs,
  };
}

/** The `--json` view of a sync_file's state. */
export function syncFileJson(state: SyncFileState): SyncFileJson {
  return {
    name: state.name,
    status: state.status,
    state: stateName(state.status),
    error: fenceError(state.status),
    fences: state.fences.map(fenceJson),
  };
}

/** When a fence signalled, relative to `nowNs` (CLOCK_MONOTONIC): `1.20 s ago`, or `-` while active. */
export function signalledAgo(fence: FenceState, nowNs: bigint): string {
  if (fence.status === 0 || fence.timestampNs === 0n) return "-";
  const ms = Number(nowNs - fence.timestampNs) / 1e6;
  return ms < 0 ? "just now" : `${formatDuration(ms)} ago`;
}

/** A status for people, coloured when the output is: green signalled, yellow active, red error. */
export function statusWord(out: Output, status: number): string {
  const text = fenceStatusText(status);
  if (status > 0) return out.green(text);
  return status === 0 ? out.yellow(text) : out.red(text);
}

/** Prints `<title>: "<name>" <status>, N fences` and a table of the fences (driver, timeline, status, when). */
export function renderSyncFile(out: Output, options: { title: string; state: SyncFileState }): void {
  const { title, state } = options;
  const count = state.fences.length;
  out.line(
    `${title}: "${state.name}" ${statusWord(out, state.status)}, ${count} fence${count === 1 ? "" : "s"}`,
  );
  if (count === 0) return;
  const now = monotonicNowNs();
  const rows = state.fences.map((fence, index) => ({ fence, index }));
  out.table([
    { header: "#", cell: (r) => String(r.index), right: true },
    { header: "DRIVER", cell: (r) => r.fence.driver },
    { header: "TIMELINE", cell: (r) => r.fence.timeline },
    { header: "STATUS", cell: (r) => fenceStatusText(r.fence.status) },
    { header: "SIGNALLED", cell: (r) => signalledAgo(r.fence, now) },
  ], rows);
}

/** Where a sync_file comes from: `--fd N` of this process, or of `--pid P`. */
export interface SyncFileSelection {
  /** The fd number (in this process, or in `pid`). */
  fd: number;
  /** The process holding it; undefined for this process. */
  pid?: number | undefined;
}

/** How a selection reads in messages: `fd 5` or `fd 5 of pid 123`. */
export function selectionLabel(selection: SyncFileSelection): string {
  return selection.pid === undefined ? `fd ${selection.fd}` : `fd ${selection.fd} of pid ${selection.pid}`;
}

/**
 * Opens the selected sync_file as a descriptor of our own (a dup, or `pidfd_getfd` for `--pid`), so closing it
 * never touches the original.
 * @throws {CliError} when the fd is not open, not a sync_file, or the process cannot be reached
 */
export function openSyncFile(selection: SyncFileSelection): SyncFile {
  const label = selectionLabel(selection);
  try {
    if (selection.pid === undefined) return SyncFile.duplicate(selection.fd, label);
    return SyncFile.from(getFdOf({ pid: selection.pid, fd: selection.fd }));
  } catch (error) {
    throw syncFileSelectionError(error, selection);
  }
}

function syncFileSelectionError(error: unknown, selection: SyncFileSelection): unknown {
  const label = selectionLabel(selection);
  if (error instanceof NotASyncFileError) {
    return new CliError(error.message, {
      cause: error,
      hint: error.actual.startsWith("/dmabuf:")
        ? "for a dma-buf's fences use fence-wait --dmabuf or fence export"
        : "pass the fd of a sync_file (from fence export, fence sw-sync or a driver)",
    });
  }
  if (selection.pid !== undefined) {
    return explainPidError(error, "getfd", { pid: selection.pid, fd: selection.fd });
  }
  if (error instanceof SyscallError && error.is("EBADF")) {
    return new CliError(`${label} is not open in dmabuf's process`, {
      cause: error,
      hint: "an fd must be inherited (e.g. from alloc/fence --exec, or a shell redirection), or give --pid",
    });
  }
  return error;
}

/** Flags of `dmabuf fence info`. */
export interface FenceInfoFlags extends CommonFlags {
  /** The sync_file's fd. */
  readonly fd: number;
  /** The process holding it. */
  readonly pid?: number;
}

/** `dmabuf fence info`: a sync_file's fences, without waiting. */
export function fenceInfo(this: DmabufContext, flags: FenceInfoFlags): void {
  const out = this.output(flags);
  const selection = { fd: flags.fd, pid: flags.pid };
  using syncFile = openSyncFile(selection);
  const state = syncFile.info();
  if (out.json) {
    out.data({ fd: flags.fd, pid: flags.pid ?? null, ...syncFileJson(state) });
    return;
  }
  renderSyncFile(out, { title: `sync_file ${selectionLabel(selection)}`, state });
}

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

/** What the kernel lacks when `DMA_BUF_IOCTL_EXPORT_SYNC_FILE` answers ENOTTY. */
export const EXPORT_SYNC_FILE_MISSING = "kernel lacks DMA_BUF_IOCTL_EXPORT_SYNC_FILE (Linux 6.0+)";
/** What the kernel lacks when `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` answers ENOTTY. */
export const IMPORT_SYNC_FILE_MISSING = "kernel lacks DMA_BUF_IOCTL_IMPORT_SYNC_FILE (Linux 6.0+)";

/** `--read`/`--write` as an access; `write` (all fences) when neither is given. @throws {UsageError} for both */
export function accessOf(flags: { readonly read: boolean; readonly write: boolean }): "read" | "write" {
  if (flags.read && flags.write) throw new UsageError("Give --read or --write, not both");
  return flags.read ? "read" : "write";
}

/** The buffer as messages name it: `fd 5`, `fd 5 of pid 123`, or `fd 7 (fresh from system)`. */
export function bufferLabel(flags: BufferSelectFlags, buffer: DmaBuf): string {
  if (flags.fd !== undefined) return selectionLabel({ fd: flags.fd, pid: flags.pid });
  return `fd ${buffer.fd} (fresh from ${flags.heap ?? DEFAULT_HEAP})`;
}

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

/** What {@link showAndHandOff} shows and passes on. */
interface MadeSyncFile {
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
async function showAndHandOff(context: DmabufContext, made: MadeSyncFile): Promise<void> {
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
    `("${state.name}", ${fenceStatusText(state.status)}) into dma-buf ${bufferLabel(flags, buffer)} ` +
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
