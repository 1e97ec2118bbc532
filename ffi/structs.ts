/**
 * Codecs for the kernel UAPI structs this tool passes to ioctl, little-endian with the LP64 layouts of
 * x86_64 and arm64 (offsets from the kernel headers named on each).
 *
 * Each codec has `SIZE`, `encode(value)` returning fresh bytes, and `decode(bytes)`.
 * @module
 */

/** Length of the name fields of sync_file structs and of `DMA_BUF_SET_NAME` (`DMA_BUF_NAME_LEN`). */
export const NAME_LEN = 32;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkLength(bytes: Uint8Array, size: number, struct: string): DataView {
  if (bytes.byteLength < size) {
    throw new RangeError(`Cannot decode struct ${struct}: ${bytes.byteLength} bytes, need ${size}`);
  }
  return view(bytes);
}

/** Writes `text` NUL-padded into a fixed `char[length]` field; text that does not fit with its NUL throws. */
function putName(bytes: Uint8Array, offset: number, text: string, length = NAME_LEN): void {
  const encoded = new TextEncoder().encode(text);
  if (encoded.length >= length) {
    throw new RangeError(`Name "${text}" is ${encoded.length} bytes: at most ${length - 1} fit`);
  }
  bytes.set(encoded, offset);
}

/** Reads a fixed `char[length]` field up to its first NUL. */
function getName(bytes: Uint8Array, offset: number, length = NAME_LEN): string {
  const field = bytes.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}

/** `struct dma_buf_sync` (`include/uapi/linux/dma-buf.h`): `__u64 flags` @0. */
export const DmaBufSync = {
  SIZE: 8,
  /** Encodes the flags (`DMA_BUF_SYNC_*`). */
  encode(flags: number): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(8);
    view(bytes).setBigUint64(0, BigInt(flags), true);
    return bytes;
  },
  /** Decodes the flags. */
  decode(bytes: Uint8Array): number {
    return Number(checkLength(bytes, 8, "dma_buf_sync").getBigUint64(0, true));
  },
} as const;

/** Fields of `struct dma_buf_export_sync_file` and `struct dma_buf_import_sync_file`. */
export interface SyncFileTransfer {
  /** `DMA_BUF_SYNC_READ` / `DMA_BUF_SYNC_WRITE` bits. */
  flags: number;
  /** The sync_file fd (out for export, in for import). */
  fd: number;
}

/**
 * `struct dma_buf_export_sync_file` / `struct dma_buf_import_sync_file` (`include/uapi/linux/dma-buf.h`, 6.0):
 * `__u32 flags` @0, `__s32 fd` @4.
 */
export const DmaBufSyncFile = {
  SIZE: 8,
  /** Encodes flags and fd. */
  encode(value: SyncFileTransfer): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(8);
    const v = view(bytes);
    v.setUint32(0, value.flags, true);
    v.setInt32(4, value.fd, true);
    return bytes;
  },
  /** Decodes flags and fd. */
  decode(bytes: Uint8Array): SyncFileTransfer {
    const v = checkLength(bytes, 8, "dma_buf_export_sync_file");
    return { flags: v.getUint32(0, true), fd: v.getInt32(4, true) };
  },
} as const;

/** Fields of `struct dma_heap_allocation_data`. */
export interface HeapAllocation {
  /** Requested length in bytes (the kernel page-aligns it). */
  len: bigint;
  /** The new dma-buf fd (out; must be 0 in). */
  fd: number;
  /** Flags of the new fd: `O_CLOEXEC | O_ACCMODE` bits only. */
  fdFlags: number;
  /** Heap flags; none are defined, so 0. */
  heapFlags: bigint;
}

/**
 * `struct dma_heap_allocation_data` (`include/uapi/linux/dma-heap.h`): `__u64 len` @0, `__u32 fd` @8,
 * `__u32 fd_flags` @12, `__u64 heap_flags` @16.
 */
export const DmaHeapAllocationData = {
  SIZE: 24,
  /** Encodes an allocation request. */
  encode(value: HeapAllocation): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(24);
    DmaHeapAllocationData.encodeInto(bytes, value);
    return bytes;
  },
  /** Encodes an allocation request into existing bytes (a reused ioctl argument). */
  encodeInto(bytes: Uint8Array, value: HeapAllocation): void {
    const v = checkLength(bytes, 24, "dma_heap_allocation_data");
    v.setBigUint64(0, value.len, true);
    v.setUint32(8, value.fd, true);
    v.setUint32(12, value.fdFlags, true);
    v.setBigUint64(16, value.heapFlags, true);
  },
  /** Decodes an allocation request or answer. */
  decode(bytes: Uint8Array): HeapAllocation {
    const v = checkLength(bytes, 24, "dma_heap_allocation_data");
    return {
      len: v.getBigUint64(0, true),
      fd: v.getUint32(8, true),
      fdFlags: v.getUint32(12, true),
      heapFlags: v.getBigUint64(16, true),
    };
  },
} as const;

/** Fields of `struct sync_merge_data`. */
export interface SyncMerge {
  /** Name of the new sync_file. */
  name: string;
  /** The second sync_file (the first is the fd the ioctl is issued on). */
  fd2: number;
  /** The merged sync_file (out). */
  fence: number;
}

/**
 * `struct sync_merge_data` (`include/uapi/linux/sync_file.h`): `char name[32]` @0, `__s32 fd2` @32,
 * `__s32 fence` @36, `__u32 flags` @40, `__u32 pad` @44 (both must be 0).
 */
export const SyncMergeData = {
  SIZE: 48,
  /** Encodes a merge request. */
  encode(value: SyncMerge): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(48);
    putName(bytes, 0, value.name);
    const v = view(bytes);
    v.setInt32(32, value.fd2, true);
    v.setInt32(36, value.fence, true);
    return bytes;
  },
  /** Decodes a merge request or answer. */
  decode(bytes: Uint8Array): SyncMerge {
    const v = checkLength(bytes, 48, "sync_merge_data");
    return { name: getName(bytes, 0), fd2: v.getInt32(32, true), fence: v.getInt32(36, true) };
  },
} as const;

/** Fields of `struct sync_fence_info`. */
export interface SyncFenceInfo {
  /** Timeline name (`obj_name`). */
  timeline: string;
  /** Driver name (`driver_name`). */
  driver: string;
  /** 1 signalled, 0 active, negative errno when signalled with an error. */
  status: number;
  /** Fence flags. */
  flags: number;
  /** CLOCK_MONOTONIC time of signalling in ns, 0 while unsignalled. */
  timestampNs: bigint;
}

/**
 * `struct sync_fence_info` (`include/uapi/linux/sync_file.h`): `char obj_name[32]` @0, `char driver_name[32]` @32,
 * `__s32 status` @64, `__u32 flags` @68, `__u64 timestamp_ns` @72.
 */
export const SyncFenceInfoStruct = {
  SIZE: 80,
  /** Encodes one fence's info (used by tests; the kernel fills these). */
  encode(value: SyncFenceInfo): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(80);
    putName(bytes, 0, value.timeline);
    putName(bytes, 32, value.driver);
    const v = view(bytes);
    v.setInt32(64, value.status, true);
    v.setUint32(68, value.flags, true);
    v.setBigUint64(72, value.timestampNs, true);
    return bytes;
  },
  /** Decodes one fence's info. */
  decode(bytes: Uint8Array): SyncFenceInfo {
    const v = checkLength(bytes, 80, "sync_fence_info");
    return {
      timeline: getName(bytes, 0),
      driver: getName(bytes, 32),
      status: v.getInt32(64, true),
      flags: v.getUint32(68, true),
      timestampNs: v.getBigUint64(72, true),
    };
  },
} as const;

/** Fields of `struct sync_file_info`. */
export interface SyncFileInfo {
  /** The sync_file's name. */
  name: string;
  /** Overall status: 1 signalled, 0 active, negative errno on error. */
  status: number;
  /** Flags (must be 0 in). */
  flags: number;
  /** In: capacity of the array at `fenceInfo`; out: the number of fences. */
  numFences: number;
  /** User address of a `sync_fence_info[numFences]` array, or 0 to query the count. */
  fenceInfo: bigint;
}

/**
 * `struct sync_file_info` (`include/uapi/linux/sync_file.h`): `char name[32]` @0, `__s32 status` @32,
 * `__u32 flags` @36, `__u32 num_fences` @40, `__u32 pad` @44, `__u64 sync_fence_info` @48.
 */
export const SyncFileInfoStruct = {
  SIZE: 56,
  /** Encodes a query. */
  encode(value: SyncFileInfo): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(56);
    putName(bytes, 0, value.name);
    const v = view(bytes);
    v.setInt32(32, value.status, true);
    v.setUint32(36, value.flags, true);
    v.setUint32(40, value.numFences, true);
    v.setBigUint64(48, value.fenceInfo, true);
    return bytes;
  },
  /** Decodes an answer. */
  decode(bytes: Uint8Array): SyncFileInfo {
    const v = checkLength(bytes, 56, "sync_file_info");
    return {
      name: getName(bytes, 0),
      status: v.getInt32(32, true),
      flags: v.getUint32(36, true),
      numFences: v.getUint32(40, true),
      fenceInfo: v.getBigUint64(48, true),
    };
  },
} as const;

/** Fields of `struct sw_sync_create_fence_data`. */
export interface SwSyncCreateFence {
  /** Seqno at which the fence signals. */
  value: number;
  /** Fence name (ignored by 6.1 kernels). */
  name: string;
  /** The new sync_file fd (out). */
  fence: number;
}

/**
 * `struct sw_sync_create_fence_data` (`drivers/dma-buf/sw_sync.c`, not UAPI): `__u32 value` @0,
 * `char name[32]` @4, `__s32 fence` @36.
 */
export const SwSyncCreateFenceData = {
  SIZE: 40,
  /** Encodes a fence request. */
  encode(value: SwSyncCreateFence): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(40);
    const v = view(bytes);
    v.setUint32(0, value.value, true);
    putName(bytes, 4, value.name);
    v.setInt32(36, value.fence, true);
    return bytes;
  },
  /** Decodes a fence request or answer. */
  decode(bytes: Uint8Array): SwSyncCreateFence {
    const v = checkLength(bytes, 40, "sw_sync_create_fence_data");
    return { value: v.getUint32(0, true), name: getName(bytes, 4), fence: v.getInt32(36, true) };
  },
} as const;

/** `__u32` argument of `SW_SYNC_IOC_INC`. */
export const U32 = {
  SIZE: 4,
  /** Encodes the value. */
  encode(value: number): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(4);
    view(bytes).setUint32(0, value, true);
    return bytes;
  },
  /** Decodes the value. */
  decode(bytes: Uint8Array): number {
    return checkLength(bytes, 4, "__u32").getUint32(0, true);
  },
} as const;

/**
 * `struct sync_set_deadline` (`include/uapi/linux/sync_file.h`, 6.8): `__u64 deadline_ns` @0, `__u64 pad` @8
 * (must be 0).
 */
export const SyncSetDeadlineStruct = {
  SIZE: 16,
  /** Encodes a deadline (absolute CLOCK_MONOTONIC ns). */
  encode(deadlineNs: bigint): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(16);
    view(bytes).setBigUint64(0, deadlineNs, true);
    return bytes;
  },
  /** Decodes the deadline. */
  decode(bytes: Uint8Array): { deadlineNs: bigint; pad: bigint } {
    const v = checkLength(bytes, 16, "sync_set_deadline");
    return { deadlineNs: v.getBigUint64(0, true), pad: v.getBigUint64(8, true) };
  },
} as const;

/** Fields of `struct sw_sync_get_deadline`. */
export interface SwSyncGetDeadline {
  /** The deadline (out; must be 0 in). */
  deadlineNs: bigint;
  /** The sw_sync fence's sync_file fd (in). */
  fenceFd: number;
}

/**
 * `struct sw_sync_get_deadline` (`drivers/dma-buf/sw_sync.c`, 6.8): `__u64 deadline_ns` @0, `__u32 pad` @8
 * (must be 0), `__s32 fence_fd` @12.
 */
export const SwSyncGetDeadlineStruct = {
  SIZE: 16,
  /** Encodes a request (deadline and pad must be 0 going in; the kernel checks). */
  encode(value: SwSyncGetDeadline): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(16);
    const v = view(bytes);
    v.setBigUint64(0, value.deadlineNs, true);
    v.setInt32(12, value.fenceFd, true);
    return bytes;
  },
  /** Decodes a request or answer. */
  decode(bytes: Uint8Array): SwSyncGetDeadline {
    const v = checkLength(bytes, 16, "sw_sync_get_deadline");
    return { deadlineNs: v.getBigUint64(0, true), fenceFd: v.getInt32(12, true) };
  },
} as const;

/** Fields of `struct udmabuf_create`. */
export interface UdmabufCreate {
  /** The memfd backing the buffer. */
  memfd: number;
  /** `UDMABUF_FLAGS_CLOEXEC` or 0. */
  flags: number;
  /** Page-aligned offset in the memfd. */
  offset: bigint;
  /** Page-multiple size. */
  size: bigint;
}

/**
 * `struct udmabuf_create` (`include/uapi/linux/udmabuf.h`): `__u32 memfd` @0, `__u32 flags` @4,
 * `__u64 offset` @8, `__u64 size` @16.
 */
export const UdmabufCreateStruct = {
  SIZE: 24,
  /** Encodes a create request. */
  encode(value: UdmabufCreate): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(24);
    const v = view(bytes);
    v.setUint32(0, value.memfd, true);
    v.setUint32(4, value.flags, true);
    v.setBigUint64(8, value.offset, true);
    v.setBigUint64(16, value.size, true);
    return bytes;
  },
  /** Decodes a create request. */
  decode(bytes: Uint8Array): UdmabufCreate {
    const v = checkLength(bytes, 24, "udmabuf_create");
    return {
      memfd: v.getUint32(0, true),
      flags: v.getUint32(4, true),
      offset: v.getBigUint64(8, true),
      size: v.getBigUint64(16, true),
    };
  },
} as const;

/** Fields of `struct drm_prime_handle`. */
export interface DrmPrimeHandle {
  /** GEM handle. */
  handle: number;
  /** `DRM_CLOEXEC` / `DRM_RDWR`. */
  flags: number;
  /** dma-buf fd. */
  fd: number;
}

/** `struct drm_prime_handle` (`include/uapi/drm/drm.h`): `__u32 handle` @0, `__u32 flags` @4, `__s32 fd` @8. */
export const DrmPrimeHandleStruct = {
  SIZE: 12,
  /** Encodes a PRIME request. */
  encode(value: DrmPrimeHandle): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(12);
    const v = view(bytes);
    v.setUint32(0, value.handle, true);
    v.setUint32(4, value.flags, true);
    v.setInt32(8, value.fd, true);
    return bytes;
  },
  /** Decodes a PRIME answer. */
  decode(bytes: Uint8Array): DrmPrimeHandle {
    const v = checkLength(bytes, 12, "drm_prime_handle");
    return { handle: v.getUint32(0, true), flags: v.getUint32(4, true), fd: v.getInt32(8, true) };
  },
} as const;

/** Fields of `struct drm_mode_create_dumb`. */
export interface DrmModeCreateDumb {
  /** Rows. */
  height: number;
  /** Pixels per row. */
  width: number;
  /** Bits per pixel. */
  bpp: number;
  /** Must be 0. */
  flags: number;
  /** GEM handle (out). */
  handle: number;
  /** Bytes per row (out). */
  pitch: number;
  /** Buffer size (out). */
  size: bigint;
}

/**
 * `struct drm_mode_create_dumb` (`include/uapi/drm/drm_mode.h`): `__u32 height, width, bpp, flags, handle, pitch`
 * @0..20, `__u64 size` @24.
 */
export const DrmModeCreateDumbStruct = {
  SIZE: 32,
  /** Encodes a create request. */
  encode(value: DrmModeCreateDumb): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(32);
    const v = view(bytes);
    v.setUint32(0, value.height, true);
    v.setUint32(4, value.width, true);
    v.setUint32(8, value.bpp, true);
    v.setUint32(12, value.flags, true);
    v.setUint32(16, value.handle, true);
    v.setUint32(20, value.pitch, true);
    v.setBigUint64(24, value.size, true);
    return bytes;
  },
  /** Decodes a create answer. */
  decode(bytes: Uint8Array): DrmModeCreateDumb {
    const v = checkLength(bytes, 32, "drm_mode_create_dumb");
    return {
      height: v.getUint32(0, true),
      width: v.getUint32(4, true),
      bpp: v.getUint32(8, true),
      flags: v.getUint32(12, true),
      handle: v.getUint32(16, true),
      pitch: v.getUint32(20, true),
      size: v.getBigUint64(24, true),
    };
  },
} as const;

/** Fields of `struct drm_vgem_fence_attach`. */
export interface VgemFenceAttach {
  /** GEM handle. */
  handle: number;
  /** `VGEM_FENCE_WRITE` or 0. */
  flags: number;
  /** Fence id (out). */
  outFence: number;
}

/**
 * `struct drm_vgem_fence_attach` (`include/uapi/drm/vgem_drm.h`): `__u32 handle` @0, `__u32 flags` @4,
 * `__u32 out_fence` @8, `__u32 pad` @12.
 */
export const VgemFenceAttachStruct = {
  SIZE: 16,
  /** Encodes an attach request. */
  encode(value: VgemFenceAttach): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(16);
    const v = view(bytes);
    v.setUint32(0, value.handle, true);
    v.setUint32(4, value.flags, true);
    v.setUint32(8, value.outFence, true);
    return bytes;
  },
  /** Decodes an attach answer. */
  decode(bytes: Uint8Array): VgemFenceAttach {
    const v = checkLength(bytes, 16, "drm_vgem_fence_attach");
    return { handle: v.getUint32(0, true), flags: v.getUint32(4, true), outFence: v.getUint32(8, true) };
  },
} as const;

/** Fields of `struct drm_vgem_fence_signal`. */
export interface VgemFenceSignal {
  /** Fence id from the attach. */
  fence: number;
  /** Must be 0. */
  flags: number;
}

/** `struct drm_vgem_fence_signal` (`include/uapi/drm/vgem_drm.h`): `__u32 fence` @0, `__u32 flags` @4. */
export const VgemFenceSignalStruct = {
  SIZE: 8,
  /** Encodes a signal request. */
  encode(value: VgemFenceSignal): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(8);
    const v = view(bytes);
    v.setUint32(0, value.fence, true);
    v.setUint32(4, value.flags, true);
    return bytes;
  },
  /** Decodes a signal request. */
  decode(bytes: Uint8Array): VgemFenceSignal {
    const v = checkLength(bytes, 8, "drm_vgem_fence_signal");
    return { fence: v.getUint32(0, true), flags: v.getUint32(4, true) };
  },
} as const;

/** `struct drm_gem_close` (`include/uapi/drm/drm.h`): `__u32 handle` @0, `__u32 pad` @4. */
export const DrmGemCloseStruct = {
  SIZE: 8,
  /** Encodes the handle to close. */
  encode(handle: number): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(8);
    view(bytes).setUint32(0, handle, true);
    return bytes;
  },
  /** Decodes the handle. */
  decode(bytes: Uint8Array): number {
    return checkLength(bytes, 8, "drm_gem_close").getUint32(0, true);
  },
} as const;

/** Fields of `struct drm_version` this tool reads. */
export interface DrmVersion {
  /** Driver name, e.g. `vgem`. */
  name: string;
}

/**
 * `struct drm_version` (`include/uapi/drm/drm.h`), 64 bytes: `int version_major, minor, patchlevel` @0..8,
 * `__kernel_size_t name_len` @16, `char *name` @24, `date_len` @32, `date` @40, `desc_len` @48, `desc` @56.
 * The caller provides the name buffer; its address goes in `name`.
 */
export const DrmVersionStruct = {
  SIZE: 64,
  /** Encodes a query whose driver name is written to the buffer at `nameAddress` of `nameLength` bytes. */
  encode(nameAddress: bigint, nameLength: number): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(64);
    const v = view(bytes);
    v.setBigUint64(16, BigInt(nameLength), true);
    v.setBigUint64(24, nameAddress, true);
    return bytes;
  },
  /** Decodes the name length the kernel reported. */
  decodeNameLength(bytes: Uint8Array): number {
    return Number(checkLength(bytes, 64, "drm_version").getBigUint64(16, true));
  },
} as const;

/** Fields of `struct pollfd`. */
export interface PollFd {
  /** The fd. */
  fd: number;
  /** Requested events (`POLLIN`, `POLLOUT`). */
  events: number;
  /** Returned events. */
  revents: number;
}

/** `struct pollfd` (`poll.h`): `int fd` @0, `short events` @4, `short revents` @6. */
export const PollFdStruct = {
  SIZE: 8,
  /** Encodes an array of pollfds. */
  encode(fds: readonly PollFd[]): Uint8Array<ArrayBuffer> {
    const bytes = new Uint8Array(8 * fds.length);
    const v = view(bytes);
    fds.forEach((entry, i) => {
      v.setInt32(8 * i, entry.fd, true);
      v.setInt16(8 * i + 4, entry.events, true);
      v.setInt16(8 * i + 6, entry.revents, true);
    });
    return bytes;
  },
  /** Decodes an array of pollfds. */
  decode(bytes: Uint8Array): PollFd[] {
    const v = view(bytes);
    const out: PollFd[] = [];
    for (let offset = 0; offset + 8 <= bytes.byteLength; offset += 8) {
      out.push({
        fd: v.getInt32(offset, true),
        events: v.getInt16(offset + 4, true),
        revents: v.getInt16(offset + 6, true),
      });
    }
    return out;
  },
} as const;

/** Fields of `struct statx` this tool reads. */
export interface Statx {
  /** File type and mode bits (`S_IFMT` etc.). */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Inode number. */
  ino: bigint;
  /** Size in bytes. */
  size: bigint;
  /** Major of the device of a character/block special file. */
  rdevMajor: number;
  /** Minor of the device of a character/block special file. */
  rdevMinor: number;
}

/**
 * `struct statx` (`include/uapi/linux/stat.h`), 256 bytes, the same on every architecture: `stx_uid` @20,
 * `stx_gid` @24, `stx_mode` (u16) @28, `stx_ino` @32, `stx_size` @40, `stx_rdev_major` @128, `stx_rdev_minor` @132.
 */
export const StatxStruct = {
  SIZE: 256,
  /** Decodes the fields of {@link Statx}. */
  decode(bytes: Uint8Array): Statx {
    const v = checkLength(bytes, 256, "statx");
    return {
      uid: v.getUint32(20, true),
      gid: v.getUint32(24, true),
      mode: v.getUint16(28, true),
      ino: v.getBigUint64(32, true),
      size: v.getBigUint64(40, true),
      rdevMajor: v.getUint32(128, true),
      rdevMinor: v.getUint32(132, true),
    };
  },
} as const;
