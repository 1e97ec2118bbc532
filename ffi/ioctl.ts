/**
 * ioctl request numbers, computed the way the kernel's `_IOC` macros do, and the flag values that go with them.
 *
 * Encoding (`include/uapi/asm-generic/ioctl.h`, shared by x86_64, arm64, arm and riscv): `nr` bits 0–7,
 * `type` bits 8–15, `size` bits 16–29, `dir` bits 30–31.
 * @module
 */

import {
  DmaBufSync,
  DmaBufSyncFile,
  DmaHeapAllocationData,
  DrmGemCloseStruct,
  DrmModeCreateDumbStruct,
  DrmPrimeHandleStruct,
  DrmVersionStruct,
  SwSyncCreateFenceData,
  SwSyncGetDeadlineStruct,
  SyncFileInfoStruct,
  SyncMergeData,
  SyncSetDeadlineStruct,
  U32,
  UdmabufCreateStruct,
  VgemFenceAttachStruct,
  VgemFenceSignalStruct,
} from "./structs.ts";

/** `_IOC_NONE`: no data transfer. */
export const IOC_NONE = 0;
/** `_IOC_WRITE`: userspace writes to the kernel. */
export const IOC_WRITE = 1;
/** `_IOC_READ`: userspace reads from the kernel. */
export const IOC_READ = 2;

const NR_SHIFT = 0n;
const TYPE_SHIFT = 8n;
const SIZE_SHIFT = 16n;
const DIR_SHIFT = 30n;
const SIZE_LIMIT = 1 << 14;

/**
 * `_IOC(dir, type, nr, size)`: an ioctl request number as the BigInt a `unsigned long` parameter takes.
 * @param type the ioctl type, a one-character string such as `"b"` or its code
 * @throws {RangeError} when a field does not fit its bits
 */
export function ioc(dir: number, type: string | number, nr: number, size: number): bigint {
  const typeCode = typeof type === "string" ? type.charCodeAt(0) : type;
  if (dir < 0 || dir > 3) throw new RangeError(`ioctl dir ${dir} does not fit 2 bits`);
  if (typeCode < 0 || typeCode > 0xff) throw new RangeError(`ioctl type ${typeCode} does not fit 8 bits`);
  if (nr < 0 || nr > 0xff) throw new RangeError(`ioctl nr ${nr} does not fit 8 bits`);
  if (size < 0 || size >= SIZE_LIMIT) throw new RangeError(`ioctl size ${size} does not fit 14 bits`);
  return (BigInt(dir) << DIR_SHIFT) | (BigInt(size) << SIZE_SHIFT) | (BigInt(typeCode) << TYPE_SHIFT) |
    (BigInt(nr) << NR_SHIFT);
}

/** `_IOW(type, nr, size)`. */
export function iow(type: string | number, nr: number, size: number): bigint {
  return ioc(IOC_WRITE, type, nr, size);
}

/** `_IOR(type, nr, size)`. */
export function ior(type: string | number, nr: number, size: number): bigint {
  return ioc(IOC_READ, type, nr, size);
}

/** `_IOWR(type, nr, size)`. */
export function iowr(type: string | number, nr: number, size: number): bigint {
  return ioc(IOC_READ | IOC_WRITE, type, nr, size);
}

/** Size of a pointer on LP64: the size `DMA_BUF_SET_NAME` encodes (`_IOW('b', 1, const char *)`). */
const POINTER_SIZE = 8;

/** `DMA_BUF_BASE` (`include/uapi/linux/dma-buf.h`). */
const DMA_BUF_BASE = "b";
/** `DMA_HEAP_IOC_MAGIC` (`include/uapi/linux/dma-heap.h`). */
const DMA_HEAP_IOC_MAGIC = "H";
/** `SYNC_IOC_MAGIC` (`include/uapi/linux/sync_file.h`). */
const SYNC_IOC_MAGIC = ">";
/** `SW_SYNC_IOC_MAGIC` (`drivers/dma-buf/sw_sync.c`). */
const SW_SYNC_IOC_MAGIC = "W";
/** udmabuf's ioctl type (`include/uapi/linux/udmabuf.h`). */
const UDMABUF_IOC_MAGIC = "u";
/** `DRM_IOCTL_BASE` (`include/uapi/drm/drm.h`). */
const DRM_IOCTL_BASE = "d";
/** `DRM_COMMAND_BASE`: first driver-private DRM ioctl nr. */
const DRM_COMMAND_BASE = 0x40;

/** The ioctl requests this tool issues, by their kernel names. */
export const Ioctl = {
  /** `_IOW(DMA_BUF_BASE, 0, struct dma_buf_sync)`, on a dma-buf; since 4.6. */
  DMA_BUF_IOCTL_SYNC: iow(DMA_BUF_BASE, 0, DmaBufSync.SIZE),
  /** `_IOW(DMA_BUF_BASE, 1, const char *)` = `DMA_BUF_SET_NAME_B` on LP64, on a dma-buf; since 5.3. */
  DMA_BUF_SET_NAME: iow(DMA_BUF_BASE, 1, POINTER_SIZE),
  /** `_IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)`, on a dma-buf; since 6.0. */
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE: iowr(DMA_BUF_BASE, 2, DmaBufSyncFile.SIZE),
  /** `_IOW(DMA_BUF_BASE, 3, struct dma_buf_import_sync_file)`, on a dma-buf; since 6.0. */
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE: iow(DMA_BUF_BASE, 3, DmaBufSyncFile.SIZE),
  /** `_IOWR(DMA_HEAP_IOC_MAGIC, 0, struct dma_heap_allocation_data)`, on `/dev/dma_heap/<name>`; since 5.6. */
  DMA_HEAP_IOCTL_ALLOC: iowr(DMA_HEAP_IOC_MAGIC, 0, DmaHeapAllocationData.SIZE),
  /** `_IOWR(SYNC_IOC_MAGIC, 3, struct sync_merge_data)`, on a sync_file. */
  SYNC_IOC_MERGE: iowr(SYNC_IOC_MAGIC, 3, SyncMergeData.SIZE),
  /** `_IOWR(SYNC_IOC_MAGIC, 4, struct sync_file_info)`, on a sync_file. */
  SYNC_IOC_FILE_INFO: iowr(SYNC_IOC_MAGIC, 4, SyncFileInfoStruct.SIZE),
  /** `_IOW(SYNC_IOC_MAGIC, 5, struct sync_set_deadline)`, on a sync_file; since 6.8. */
  SYNC_IOC_SET_DEADLINE: iow(SYNC_IOC_MAGIC, 5, SyncSetDeadlineStruct.SIZE),
  /** `_IOWR(SW_SYNC_IOC_MAGIC, 0, struct sw_sync_create_fence_data)`, on a sw_sync timeline. */
  SW_SYNC_IOC_CREATE_FENCE: iowr(SW_SYNC_IOC_MAGIC, 0, SwSyncCreateFenceData.SIZE),
  /** `_IOW(SW_SYNC_IOC_MAGIC, 1, __u32)`, on a sw_sync timeline. */
  SW_SYNC_IOC_INC: iow(SW_SYNC_IOC_MAGIC, 1, U32.SIZE),
  /** `_IOWR(SW_SYNC_IOC_MAGIC, 2, struct sw_sync_get_deadline)`, on a sw_sync timeline; since 6.8 (a test ioctl). */
  SW_SYNC_GET_DEADLINE: iowr(SW_SYNC_IOC_MAGIC, 2, SwSyncGetDeadlineStruct.SIZE),
  /** `_IOW('u', 0x42, struct udmabuf_create)`, on `/dev/udmabuf`; returns the dma-buf fd. */
  UDMABUF_CREATE: iow(UDMABUF_IOC_MAGIC, 0x42, UdmabufCreateStruct.SIZE),
  /** `DRM_IOWR(0x00, struct drm_version)`. */
  DRM_IOCTL_VERSION: iowr(DRM_IOCTL_BASE, 0x00, DrmVersionStruct.SIZE),
  /** `DRM_IOW(0x09, struct drm_gem_close)`. */
  DRM_IOCTL_GEM_CLOSE: iow(DRM_IOCTL_BASE, 0x09, DrmGemCloseStruct.SIZE),
  /** `DRM_IOWR(0x2d, struct drm_prime_handle)`. */
  DRM_IOCTL_PRIME_HANDLE_TO_FD: iowr(DRM_IOCTL_BASE, 0x2d, DrmPrimeHandleStruct.SIZE),
  /** `DRM_IOWR(0x2e, struct drm_prime_handle)`. */
  DRM_IOCTL_PRIME_FD_TO_HANDLE: iowr(DRM_IOCTL_BASE, 0x2e, DrmPrimeHandleStruct.SIZE),
  /** `DRM_IOWR(0xB2, struct drm_mode_create_dumb)`. */
  DRM_IOCTL_MODE_CREATE_DUMB: iowr(DRM_IOCTL_BASE, 0xb2, DrmModeCreateDumbStruct.SIZE),
  /** `DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH (0x1), struct drm_vgem_fence_attach)`. */
  DRM_IOCTL_VGEM_FENCE_ATTACH: iowr(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x1, VgemFenceAttachStruct.SIZE),
  /** `DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL (0x2), struct drm_vgem_fence_signal)`. */
  DRM_IOCTL_VGEM_FENCE_SIGNAL: iow(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x2, VgemFenceSignalStruct.SIZE),
} as const;

/** A kernel name of an ioctl in {@link Ioctl}. */
export type IoctlName = keyof typeof Ioctl;

/** `DMA_BUF_SYNC_*` flags (`include/uapi/linux/dma-buf.h`). */
export const DmaBufSyncFlags = {
  DMA_BUF_SYNC_READ: 1 << 0,
  DMA_BUF_SYNC_WRITE: 2 << 0,
  DMA_BUF_SYNC_RW: (1 << 0) | (2 << 0),
  DMA_BUF_SYNC_START: 0 << 2,
  DMA_BUF_SYNC_END: 1 << 2,
  DMA_BUF_SYNC_VALID_FLAGS_MASK: (1 << 0) | (2 << 0) | (1 << 2),
} as const;

/** `UDMABUF_FLAGS_CLOEXEC` (`include/uapi/linux/udmabuf.h`). */
export const UDMABUF_FLAGS_CLOEXEC = 0x01;
/** `VGEM_FENCE_WRITE` (`include/uapi/drm/vgem_drm.h`). */
export const VGEM_FENCE_WRITE = 0x1;
/** `DRM_CLOEXEC` (= `O_CLOEXEC`) for `drm_prime_handle.flags`. */
export const DRM_CLOEXEC = 0o2000000;
/** `DRM_RDWR` (= `O_RDWR`) for `drm_prime_handle.flags`. */
export const DRM_RDWR = 0o2;
