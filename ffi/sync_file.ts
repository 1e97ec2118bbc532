/**
 * sync_files (`include/uapi/linux/sync_file.h`, since 4.7) as disposable objects: the fences they carry
 * (`SYNC_IOC_FILE_INFO`), merging (`SYNC_IOC_MERGE`) and waiting (`poll` for `POLLIN`).
 * @module
 */

import { errnoName } from "./errno.ts";
import { waitForEvents, type WaitOptions, type WaitOutcome } from "./fence_wait.ts";
import { checkedFd, dupCloexec, Fd, poll, PollEvents } from "./fd.ts";
import { check, libc } from "./libc.ts";
import { NativeMemory } from "./native_memory.ts";
import {
  type SyncFenceInfo,
  SyncFenceInfoStruct,
  type SyncFileInfo,
  SyncFileInfoStruct,
  SyncMergeData,
} from "./structs.ts";

/** What `readlink /proc/self/fd/N` shows for a sync_file (`anon_inode_getfile("sync_file", ...)`). */
export const SYNC_FILE_LINK = "anon_inode:sync_file";

/** `CLOCK_MONOTONIC` (`include/uapi/linux/time.h`): the clock of `sync_fence_info.timestamp_ns`. */
const CLOCK_MONOTONIC = 1;
/** `struct timespec` on LP64: `tv_sec` i64 @0, `tv_nsec` long @8. */
const TIMESPEC_SIZE = 16;
const NS_PER_S = 1_000_000_000n;

/** The default name of a merged sync_file. */
export const DEFAULT_MERGE_NAME = "dmabuf-merge";

/** A fence status as `SYNC_IOC_FILE_INFO` reports it: 1 signalled, 0 active, negative errno on error. */
export type FenceStatus = number;

/** `signalled`, `active`, or the error as `-ENOENT`, for a {@link FenceStatus}. */
export function fenceStatusText(status: FenceStatus): string {
  if (status > 0) return "signalled";
  if (status === 0) return "active";
  return `-${errnoName(-status)}`;
}

/** The errno name of an error status (`ENOENT` for -2), or null for signalled/active. */
export function fenceError(status: FenceStatus): string | null {
  return status < 0 ? errnoName(-status) : null;
}

/**
 * What `dma_fence_driver_name`/`dma_fence_timeline_name` return for a fence that has signalled (6.17+):
 * placeholders, not names (the driver may have freed its names by then).
 */
export const SIGNALLED_NAME_PLACEHOLDERS = {
  driver: "detached-driver",
  timeline: "signaled-timeline",
} as const;

/** One fence of a sync_file. */
export interface FenceState {
  /**
   * Driver name, e.g. `sw_sync`, `vgem`, `stub`; null when the kernel no longer names it (a signalled fence on
   * 6.17+) and this sync_file was not seen with it before.
   */
  driver: string | null;
  /** Timeline name (sw_sync: the comm of the process that opened the timeline); null as for `driver`. */
  timeline: string | null;
  /** 1 signalled, 0 active, negative errno when signalled with an error. */
  status: FenceStatus;
  /** `sync_fence_info.flags`. */
  flags: number;
  /** CLOCK_MONOTONIC time of signalling in ns; 0 while unsignalled. */
  timestampNs: bigint;
}

/** A sync_file as `SYNC_IOC_FILE_INFO` describes it. */
export interface SyncFileState {
  /**
   * The sync_file's name (the merge name, or `<driver>-<timeline><context>-<seqno>`); null when the kernel
   * built it from a signalled fence's placeholders (6.17+: `detached-driver-signaled-timeli...`) and this
   * sync_file was not seen with its name before.
   */
  name: string | null;
  /** Overall status: 1 when every fence signalled, 0 while any is active, negative errno on error. */
  status: FenceStatus;
  /** The fences, in the kernel's order. */
  fences: FenceState[];
}

function toFenceState(info: SyncFenceInfo): FenceState {
  return {
    driver: info.driver === SIGNALLED_NAME_PLACEHOLDERS.driver ? null : info.driver,
    timeline: info.timeline === SIGNALLED_NAME_PLACEHOLDERS.timeline ? null : info.timeline,
    status: info.status,
    flags: info.flags,
    timestampNs: info.timestampNs,
  };
}

/**
 * Decodes the `struct sync_fence_info` array the kernel filled in.
 * @throws {RangeError} when `bytes` is shorter than `count` entries
 */
export function decodeFenceInfos(bytes: Uint8Array, count: number): FenceState[] {
  const size = SyncFenceInfoStruct.SIZE;
  if (bytes.byteLength < count * size) {
    throw new RangeError(`Cannot decode ${count} sync_fence_info entries from ${bytes.byteLength} bytes`);
  }
  const out: FenceState[] = [];
  for (let i = 0; i < count; i++) {
    out.push(toFenceState(SyncFenceInfoStruct.decode(bytes.subarray(i * size, (i + 1) * size))));
  }
  return out;
}

/** `SYNC_IOC_FILE_INFO`'s answer as bytes (see {@link SyncFile.rawInfo}). */
export interface RawSyncFileInfo {
  /** `struct sync_file_info`, with `sync_fence_info` (the array's address) zeroed. */
  info: Uint8Array;
  /** `num_fences` × `struct sync_fence_info`. */
  fences: Uint8Array;
}

/**
 * A sync_file's state from the bytes of `SYNC_IOC_FILE_INFO`'s answer; the 6.17+ placeholders of a signalled
 * fence's names, and a sync_file name built from them, become null.
 * @throws {RangeError} when the fence array is shorter than `num_fences` says
 */
export function decodeSyncFileInfo(raw: RawSyncFileInfo): SyncFileState {
  const answer = SyncFileInfoStruct.decode(raw.info);
  const placeholder = answer.name.startsWith(`${SIGNALLED_NAME_PLACEHOLDERS.driver}-`);
  return {
    name: placeholder ? null : answer.name,
    status: answer.status,
    fences: decodeFenceInfos(raw.fences, answer.numFences),
  };
}

/** The current CLOCK_MONOTONIC time in ns, comparable with `timestampNs`. @throws {SyscallError} */
export function monotonicNowNs(): bigint {
  const timespec = new Uint8Array(TIMESPEC_SIZE);
  check(libc().clock_gettime(CLOCK_MONOTONIC, timespec), "clock_gettime", "CLOCK_MONOTONIC");
  const view = new DataView(timespec.buffer);
  return view.getBigInt64(0, true) * NS_PER_S + view.getBigInt64(8, true);
}

/** Thrown when an fd that should be a sync_file is something else; the message says what it is. */
export class NotASyncFileError extends Error {
  /** What the fd is, from readlink. */
  readonly actual: string;
  /** Makes the error for `label`, which links to `actual`. */
  constructor(label: string, actual: string) {
    super(`${label} is not a sync_file: it is ${actual}`);
    this.name = "NotASyncFileError";
    this.actual = actual;
  }
}

/** An open sync_file. */
export class SyncFile implements Disposable {
  /** The owned fd. */
  readonly file: Fd;

  /** Wraps an fd known to be a sync_file (from an ioctl that returned one); takes ownership. */
  constructor(file: Fd) {
    this.file = file;
  }

  /**
   * Takes ownership of an open fd after checking that it is a sync_file; closes it when it is not.
   * @throws {NotASyncFileError} when it is something else
   */
  static from(file: Fd): SyncFile {
    const refuse = (target: string) =>
      target === SYNC_FILE_LINK ? null : new NotASyncFileError(file.label, target);
    return new SyncFile(checkedFd(file, refuse));
  }

  /**
   * A close-on-exec duplicate of `fd` as a sync_file of its own, leaving `fd` to its owner.
   * @throws {NotASyncFileError} when `fd` is something else
   * @throws {SyscallError} EBADF when it is not open
   */
  static duplicate(fd: number, label = `fd ${fd}`): SyncFile {
    return SyncFile.from(dupCloexec(fd, label));
  }

  /** The fd number. */
  get fd(): number {
    return this.file.fd;
  }

  /** What the fd is, for messages. */
  get label(): string {
    return this.file.label;
  }

  /**
   * `SYNC_IOC_FILE_INFO`, twice: first with `num_fences = 0` for the count and overall status, then with an
   * array of that many `struct sync_fence_info` (a sync_file's fences never change, so the count holds).
   *
   * From 6.17 the kernel names a signalled fence only by placeholders; a fence's names seen by an earlier
   * call on this object (while it was unsignalled) are kept, matched by position (a sync_file's fences and
   * their order are fixed), and so is the sync_file's own name built from them.
   * @throws {SyscallError}
   */
  info(): SyncFileState {
    const state = this.#query();
    state.fences.forEach((fence, i) => {
      const known = this.#names[i] ??= { driver: null, timeline: null };
      if (fence.driver === null) fence.driver = known.driver;
      else known.driver = fence.driver;
      if (fence.timeline === null) fence.timeline = known.timeline;
      else known.timeline = fence.timeline;
    });
    if (state.name !== null) this.#name = state.name;
    else if (this.#name !== undefined) state.name = this.#name;
    return state;
  }

  /** The names each fence had when {@link info} last saw them, by position. */
  #names: { driver: string | null; timeline: string | null }[] = [];
  /** The sync_file's name as last seen without placeholders. */
  #name: string | undefined;

  #query(): SyncFileState {
    return decodeSyncFileInfo(this.rawInfo());
  }

  /**
   * The kernel's answer to `SYNC_IOC_FILE_INFO` as bytes: `struct sync_file_info` (its `sync_fence_info`
   * pointer cleared) and the array of `struct sync_fence_info` it filled. {@link decodeSyncFileInfo} reads it.
   * @throws {SyscallError}
   */
  rawInfo(): RawSyncFileInfo {
    const query = SyncFileInfoStruct.encode({ name: "", status: 0, flags: 0, numFences: 0, fenceInfo: 0n });
    this.file.ioctl("SYNC_IOC_FILE_INFO", query);
    const summary: SyncFileInfo = SyncFileInfoStruct.decode(query);
    if (summary.numFences === 0) return { info: query, fences: new Uint8Array(0) };
    // The struct holds the array's address: memory that cannot move (see native_memory.ts).
    using array = new NativeMemory(summary.numFences * SyncFenceInfoStruct.SIZE);
    const request = SyncFileInfoStruct.encode({
      name: "",
      status: 0,
      flags: 0,
      numFences: summary.numFences,
      fenceInfo: array.address,
    });
    this.file.ioctl("SYNC_IOC_FILE_INFO", request);
    const answer = SyncFileInfoStruct.decode(request);
    const info = SyncFileInfoStruct.encode({ ...answer, fenceInfo: 0n });
    return { info, fences: array.bytes().slice(0, answer.numFences * SyncFenceInfoStruct.SIZE) };
  }

  /** The overall status (`SYNC_IOC_FILE_INFO` with `num_fences = 0`). @throws {SyscallError} */
  status(): FenceStatus {
    const query = SyncFileInfoStruct.encode({ name: "", status: 0, flags: 0, numFences: 0, fenceInfo: 0n });
    this.file.ioctl("SYNC_IOC_FILE_INFO", query);
    return SyncFileInfoStruct.decode(query).status;
  }

  /** Whether every fence has signalled (with or without error): `poll(POLLIN, 0)`. */
  signalled(): boolean {
    const [result] = poll([{ fd: this.fd, events: PollEvents.POLLIN, revents: 0 }], 0);
    return ((result?.revents ?? 0) & PollEvents.POLLIN) !== 0;
  }

  /**
   * `SYNC_IOC_MERGE`: a new sync_file that signals when both this one's and `other`'s fences have.
   * @throws {RangeError} when the name does not fit 31 bytes
   * @throws {SyscallError}
   */
  merge(other: SyncFile, name = DEFAULT_MERGE_NAME): SyncFile {
    const arg = SyncMergeData.encode({ name, fd2: other.fd, fence: -1 });
    this.file.ioctl("SYNC_IOC_MERGE", arg);
    return new SyncFile(new Fd(SyncMergeData.decode(arg).fence, `sync_file "${name}"`));
  }

  /**
   * Waits until the sync_file signals, the timeout passes or the signal aborts, polling in short slices.
   * @throws {SyscallError}
   */
  wait(options: WaitOptions = {}): Promise<WaitOutcome> {
    return waitForEvents({ fd: this.fd, events: PollEvents.POLLIN, label: this.label }, options);
  }

  /** Closes the fd; idempotent. */
  close(): void {
    this.file.close();
  }

  /** Closes the fd, swallowing errors. */
  [Symbol.dispose](): void {
    this.file[Symbol.dispose]();
  }
}
