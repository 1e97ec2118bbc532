/**
 * sw_sync timelines (`drivers/dma-buf/sw_sync.c`, `CONFIG_SW_SYNC`): a test fence source that needs no GPU.
 *
 * Opening `<debugfs>/sync/sw_sync` creates a timeline at value 0 named after the opener's comm;
 * `SW_SYNC_IOC_CREATE_FENCE` makes a sync_file that signals once the timeline reaches its seqno;
 * `SW_SYNC_IOC_INC` advances the timeline. Closing the timeline signals every pending fence with `-ENOENT`.
 * @module
 */

import { SyscallError } from "./errno.ts";
import { Fd, OpenFlags, openPath } from "./fd.ts";
import { readMounts } from "./procfs.ts";
import { SyncFile } from "./sync_file.ts";
import { SwSyncCreateFenceData, U32 } from "./structs.ts";
import { DEFAULT_DEBUGFS, parseMounts } from "./text/mounts.ts";

/** The sw_sync file inside debugfs. */
export const SW_SYNC_DEBUGFS_PATH = "sync/sw_sync";
/** The pre-4.9 misc device (Android's staging driver). */
export const LEGACY_SW_SYNC_PATH = "/dev/sw_sync";
/** What a kernel needs for sw_sync, for messages. */
export const SW_SYNC_REQUIREMENT = "needs CONFIG_SW_SYNC=y and debugfs mounted (as root)";

/** The largest `SW_SYNC_IOC_INC` step (`__u32`). */
export const MAX_INC = 0xffff_ffff;

/** The debugfs mount points of this system (from /proc/mounts), or [] when none is mounted or it is unreadable. */
export function debugfsMounts(): string[] {
  const text = readMounts();
  if (text === null) return [];
  return parseMounts(text).filter((m) => m.fsType === "debugfs").map((m) => m.mountPoint);
}

/**
 * The paths a sw_sync timeline can be opened from, most likely first: `sync/sw_sync` under each mounted
 * debugfs (or {@link DEFAULT_DEBUGFS} when none is), then {@link LEGACY_SW_SYNC_PATH}.
 */
export function swSyncCandidates(mounts: readonly string[] = debugfsMounts()): string[] {
  const roots = mounts.length === 0 ? [DEFAULT_DEBUGFS] : mounts;
  return [...new Set([...roots.map((root) => `${root}/${SW_SYNC_DEBUGFS_PATH}`), LEGACY_SW_SYNC_PATH])];
}

/** Thrown when no sw_sync timeline can be opened; the message names what is missing and what provides it. */
export class SwSyncUnavailableError extends Error {
  /** Each path tried, with the errno name it failed with. */
  readonly tried: readonly { path: string; code: string }[];
  /** Whether debugfs was mounted at all. */
  readonly debugfsMounted: boolean;

  /** Makes the error from the failed attempts. */
  constructor(tried: readonly { path: string; code: string }[], debugfsMounted: boolean) {
    const denied = tried.find((t) => t.code === "EACCES" || t.code === "EPERM");
    const list = tried.map((t) => `${t.path} (${t.code})`).join(", ");
    let why: string;
    if (denied !== undefined) why = `permission denied on ${denied.path}: debugfs is root-only, run as root`;
    else if (!debugfsMounted) why = `debugfs is not mounted (mount -t debugfs none ${DEFAULT_DEBUGFS})`;
    else why = "the kernel has no sw_sync";
    super(`sw_sync is not available: ${why}; tried ${list}; sw_sync ${SW_SYNC_REQUIREMENT}`);
    this.name = "SwSyncUnavailableError";
    this.tried = tried;
    this.debugfsMounted = debugfsMounted;
  }
}

/** A sw_sync timeline this process owns. */
export class SwSyncTimeline implements Disposable {
  /** The owned timeline fd. */
  readonly file: Fd;
  #value = 0;

  private constructor(file: Fd) {
    this.file = file;
  }

  /**
   * Opens a new timeline from the first of `paths` (default {@link swSyncCandidates}) that exists.
   * @throws {SwSyncUnavailableError} when none can be opened for ENOENT, EACCES or EPERM
   * @throws {SyscallError} for other failures
   */
  static open(paths?: readonly string[]): SwSyncTimeline {
    const mounts = debugfsMounts();
    const candidates = paths ?? swSyncCandidates(mounts);
    const tried: { path: string; code: string }[] = [];
    for (const path of candidates) {
      try {
        return new SwSyncTimeline(openPath(path, { flags: OpenFlags.O_RDWR }));
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        if (!(error.is("ENOENT") || error.is("EACCES") || error.is("EPERM") || error.is("ENOTDIR"))) {
          throw error;
        }
        tried.push({ path, code: error.code });
      }
    }
    throw new SwSyncUnavailableError(tried, mounts.length > 0);
  }

  /** The path the timeline was opened from. */
  get path(): string {
    return this.file.label;
  }

  /** The fd number. */
  get fd(): number {
    return this.file.fd;
  }

  /** The timeline value: the sum of the increments made through this object (a new timeline starts at 0). */
  get value(): number {
    return this.#value;
  }

  /** Whether the timeline is still open (closing it signals pending fences with -ENOENT). */
  get open(): boolean {
    return this.file.open;
  }

  /**
   * `SW_SYNC_IOC_CREATE_FENCE`: a sync_file that signals when the timeline reaches `seqno` (already signalled
   * when it has). The name is passed on but ignored by 6.1 kernels.
   * @throws {SyscallError}
   */
  createFence(seqno: number, name = `seqno ${seqno}`): SyncFile {
    if (!Number.isInteger(seqno) || seqno < 0 || seqno > MAX_INC) {
      throw new RangeError(`Invalid seqno ${seqno}: expected an integer from 0 to ${MAX_INC}`);
    }
    const arg = SwSyncCreateFenceData.encode({ value: seqno, name, fence: -1 });
    this.file.ioctl("SW_SYNC_IOC_CREATE_FENCE", arg);
    return new SyncFile(new Fd(SwSyncCreateFenceData.decode(arg).fence, `sw_sync fence at seqno ${seqno}`));
  }

  /**
   * `SW_SYNC_IOC_INC`: advances the timeline by `step`, signalling every fence whose seqno it reaches.
   * @throws {SyscallError}
   */
  inc(step = 1): void {
    if (!Number.isInteger(step) || step < 0 || step > MAX_INC) {
      throw new RangeError(`Invalid increment ${step}: expected an integer from 0 to ${MAX_INC}`);
    }
    this.file.ioctl("SW_SYNC_IOC_INC", U32.encode({ value: step }));
    this.#value += step;
  }

  /** Closes the timeline: every fence still pending signals with `-ENOENT`. Idempotent. */
  close(): void {
    this.file.close();
  }

  /** Closes the timeline, swallowing errors. */
  [Symbol.dispose](): void {
    this.file[Symbol.dispose]();
  }
}
