/**
 * The kernel UAPI structs this tool passes to ioctl, each declared once as a {@link layout} (fields in order
 * with their C types, from the header named on each): size, offsets, encoder and decoder follow from it,
 * little-endian with the LP64 layouts of x86_64 and arm64. `tests/ffi/structs_headers_test.ts` compares them
 * with the kernel headers of the VM's kernels.
 * @module
 */

import {
  chars,
  layout,
  named,
  opaque,
  padding,
  pointer,
  s16,
  s32,
  sizeT,
  u16,
  u32,
  u64,
  u64Flags,
  unused,
} from "./layout.ts";

/** Length of the name fields of sync_file structs and of `DMA_BUF_SET_NAME` (`DMA_BUF_NAME_LEN`). */
export const NAME_LEN = 32;

/** `struct dma_buf_sync` (`linux/dma-buf.h`, 4.6): `DMA_BUF_SYNC_*` flags. */
export const DmaBufSync = layout("dma_buf_sync", { header: "linux/dma-buf.h" }, { flags: u64Flags });

/**
 * `struct dma_buf_export_sync_file` and its twin `struct dma_buf_import_sync_file` (`linux/dma-buf.h`, 6.0):
 * `DMA_BUF_SYNC_READ`/`WRITE` flags and the sync_file fd (out for export, in for import).
 */
export const DmaBufSyncFile = layout(
  "dma_buf_export_sync_file",
  { header: "linux/dma-buf.h", since: "6.0", aliases: ["dma_buf_import_sync_file"] },
  { flags: u32, fd: s32 },
);

/**
 * `struct dma_heap_allocation_data` (`linux/dma-heap.h`, 5.6): the length to allocate (page-aligned by the
 * kernel), the new fd (out; 0 in), its flags (`O_CLOEXEC | O_ACCMODE` bits only) and heap flags (none
 * defined: 0).
 */
export const DmaHeapAllocationData = layout(
  "dma_heap_allocation_data",
  { header: "linux/dma-heap.h", since: "5.6" },
  { len: u64, fd: u32, fdFlags: u32, heapFlags: u64 },
);

/**
 * `struct sync_merge_data` (`linux/sync_file.h`, 4.7): the merged sync_file's name, the second sync_file (the
 * first is the fd the ioctl is issued on), the merged one (out); `flags` and `pad` must be 0.
 */
export const SyncMergeData = layout("sync_merge_data", { header: "linux/sync_file.h" }, {
  name: chars(NAME_LEN),
  fd2: s32,
  fence: s32,
  flags: unused(u32),
  pad: unused(u32),
});

/**
 * `struct sync_fence_info` (`linux/sync_file.h`, 4.7): timeline and driver names, status (1 signalled, 0
 * active, a negative errno when signalled with an error), flags, CLOCK_MONOTONIC time of signalling in ns (0
 * while unsignalled).
 */
export const SyncFenceInfoStruct = layout("sync_fence_info", { header: "linux/sync_file.h" }, {
  timeline: named("obj_name", chars(NAME_LEN)),
  driver: named("driver_name", chars(NAME_LEN)),
  status: s32,
  flags: u32,
  timestampNs: u64,
});

/** Fields of `struct sync_fence_info`. */
export type SyncFenceInfo = ReturnType<typeof SyncFenceInfoStruct.decode>;

/**
 * `struct sync_file_info` (`linux/sync_file.h`, 4.7): the sync_file's name, its status, flags (0 in), the
 * number of fences (in: the capacity of the array at `fenceInfo`; out: the count) and the user address of a
 * `sync_fence_info` array (0 to query the count).
 */
export const SyncFileInfoStruct = layout("sync_file_info", { header: "linux/sync_file.h" }, {
  name: chars(NAME_LEN),
  status: s32,
  flags: u32,
  numFences: u32,
  pad: unused(u32),
  fenceInfo: named("sync_fence_info", u64),
});

/** Fields of `struct sync_file_info`. */
export type SyncFileInfo = ReturnType<typeof SyncFileInfoStruct.decode>;

/**
 * `struct sw_sync_create_fence_data` (`drivers/dma-buf/sw_sync.c`, not UAPI): the seqno at which the fence
 * signals, its name (ignored by 6.1 kernels), the new sync_file fd (out).
 */
export const SwSyncCreateFenceData = layout(
  "sw_sync_create_fence_data",
  { header: null, source: "drivers/dma-buf/sw_sync.c" },
  { value: u32, name: chars(NAME_LEN), fence: s32 },
);

/** The `__u32` argument of `SW_SYNC_IOC_INC`. */
export const U32 = layout("__u32", { header: null }, { value: u32 });

/** `struct sync_set_deadline` (`linux/sync_file.h`, 6.8): an absolute CLOCK_MONOTONIC deadline; `pad` 0. */
export const SyncSetDeadlineStruct = layout(
  "sync_set_deadline",
  { header: "linux/sync_file.h", since: "6.8" },
  { deadlineNs: u64, pad: u64 },
);

/**
 * `struct sw_sync_get_deadline` (`drivers/dma-buf/sw_sync.c`, 6.8, not UAPI): the deadline (out; 0 in), `pad`
 * (0), the sw_sync fence's sync_file fd (in).
 */
export const SwSyncGetDeadlineStruct = layout(
  "sw_sync_get_deadline",
  { header: null, source: "drivers/dma-buf/sw_sync.c", since: "6.8" },
  { deadlineNs: u64, pad: unused(u32), fenceFd: s32 },
);

/**
 * `struct udmabuf_create` (`linux/udmabuf.h`, 4.20): the memfd backing the buffer, `UDMABUF_FLAGS_CLOEXEC` or
 * 0, a page-aligned offset in the memfd and a page-multiple size.
 */
export const UdmabufCreateStruct = layout("udmabuf_create", { header: "linux/udmabuf.h", since: "4.20" }, {
  memfd: u32,
  flags: u32,
  offset: u64,
  size: u64,
});

/** `struct drm_prime_handle` (`drm/drm.h`): a GEM handle, `DRM_CLOEXEC`/`DRM_RDWR`, the dma-buf fd. */
export const DrmPrimeHandleStruct = layout("drm_prime_handle", { header: "drm/drm.h" }, {
  handle: u32,
  flags: u32,
  fd: s32,
});

/**
 * `struct drm_mode_create_dumb` (`drm/drm_mode.h`): rows, pixels per row, bits per pixel, flags (0), and out
 * the GEM handle, the bytes per row and the buffer size.
 */
export const DrmModeCreateDumbStruct = layout("drm_mode_create_dumb", { header: "drm/drm_mode.h" }, {
  height: u32,
  width: u32,
  bpp: u32,
  flags: u32,
  handle: u32,
  pitch: u32,
  size: u64,
});

/** `struct drm_vgem_fence_attach` (`drm/vgem_drm.h`): a GEM handle, `VGEM_FENCE_WRITE` or 0, the fence id (out). */
export const VgemFenceAttachStruct = layout("drm_vgem_fence_attach", { header: "drm/vgem_drm.h" }, {
  handle: u32,
  flags: u32,
  outFence: u32,
  pad: unused(u32),
});

/** `struct drm_vgem_fence_signal` (`drm/vgem_drm.h`): the fence id from the attach, flags (0). */
export const VgemFenceSignalStruct = layout("drm_vgem_fence_signal", { header: "drm/vgem_drm.h" }, {
  fence: u32,
  flags: u32,
});

/** `struct drm_gem_close` (`drm/drm.h`): the GEM handle to close. */
export const DrmGemCloseStruct = layout("drm_gem_close", { header: "drm/drm.h" }, {
  handle: u32,
  pad: unused(u32),
});

/**
 * `struct drm_version` (`drm/drm.h`): the version numbers, then length and address of three caller-provided
 * strings; this tool asks for the driver name only (its buffer's address in `name`, its length in `nameLen`,
 * the length the kernel has in `nameLen` after).
 */
export const DrmVersionStruct = layout("drm_version", { header: "drm/drm.h" }, {
  versionMajor: unused(s32),
  versionMinor: unused(s32),
  versionPatchlevel: unused(s32),
  nameLen: sizeT,
  name: pointer,
  dateLen: unused(sizeT),
  date: unused(pointer),
  descLen: unused(sizeT),
  desc: unused(pointer),
});

/** `struct pollfd` (`asm-generic/poll.h`): the fd, requested and returned events. */
export const PollFdStruct = layout("pollfd", { header: "asm-generic/poll.h" }, {
  fd: s32,
  events: s16,
  revents: s16,
});

/** Fields of `struct pollfd`. */
export type PollFd = ReturnType<typeof PollFdStruct.decode>;

/** `struct statx_timestamp`, which this tool does not read. */
const STATX_TIMESTAMP = opaque("struct statx_timestamp", 16, 8);

/**
 * `struct statx` (`linux/stat.h`, 4.11), 256 bytes on every architecture: the fields up to the device
 * numbers, of which this tool reads owner, mode, inode, size and the special file's device; what later
 * kernels added after them is padding here.
 */
export const StatxStruct = layout("statx", { header: "linux/stat.h", since: "4.11", prefix: "stx_" }, {
  mask: unused(u32),
  blksize: unused(u32),
  attributes: unused(u64),
  nlink: unused(u32),
  uid: u32,
  gid: u32,
  mode: u16,
  spare0: unused(u16, "__spare0"),
  ino: u64,
  size: u64,
  blocks: unused(u64),
  attributesMask: unused(u64),
  atime: unused(STATX_TIMESTAMP),
  btime: unused(STATX_TIMESTAMP),
  ctime: unused(STATX_TIMESTAMP),
  mtime: unused(STATX_TIMESTAMP),
  rdevMajor: u32,
  rdevMinor: u32,
  devMajor: unused(u32),
  devMinor: unused(u32),
  rest: padding(112, 8),
});

/** Fields of `struct statx` this tool reads. */
export type Statx = ReturnType<typeof StatxStruct.decode>;
