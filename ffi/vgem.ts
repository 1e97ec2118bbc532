/**
 * vgem (`drivers/gpu/drm/vgem`, `CONFIG_DRM_VGEM`): a virtual GEM driver that exports buffers over PRIME and
 * attaches fences to them (`include/uapi/drm/vgem_drm.h`) — a GPU stand-in for testing implicit fences.
 *
 * vgem fences signal on `DRM_IOCTL_VGEM_FENCE_SIGNAL` or by themselves after 10 s (`VGEM_FENCE_TIMEOUT`).
 * @module
 */

import { DmaBuf } from "./dma_buf.ts";
import { SyscallError } from "./errno.ts";
import { Fd, OpenFlags, openPath } from "./fd.ts";
import { NativeMemory } from "./native_memory.ts";
import { DRM_CLOEXEC, DRM_RDWR, VGEM_FENCE_WRITE } from "./ioctl.ts";
import {
  DrmGemCloseStruct,
  DrmModeCreateDumbStruct,
  DrmPrimeHandleStruct,
  DrmVersionStruct,
  VgemFenceAttachStruct,
  VgemFenceSignalStruct,
} from "./structs.ts";

/** Where DRM device nodes live. */
export const DRI_DIR = "/dev/dri";
/** The DRM driver name vgem reports through `DRM_IOCTL_VERSION`. */
export const VGEM_DRIVER_NAME = "vgem";
/** What a kernel needs for vgem, for messages. */
export const VGEM_REQUIREMENT = "needs CONFIG_DRM_VGEM=y (or modprobe vgem)";
/** Room for a DRM driver name; names are short (`vgem`, `i915`, `amdgpu`). */
const DRIVER_NAME_CAPACITY = 64;
/** Primary DRM nodes: `/dev/dri/card<N>`. */
const CARD_NODE = /^card\d+$/;

/**
 * The DRM driver name of an open DRM node (`DRM_IOCTL_VERSION` with a caller-provided name buffer).
 * @throws {SyscallError} e.g. ENOTTY when the fd is not a DRM node
 */
export function drmDriverName(file: Fd): string {
  // The struct holds the name buffer's address: memory that cannot move (see native_memory.ts).
  using name = new NativeMemory(DRIVER_NAME_CAPACITY);
  const arg = DrmVersionStruct.encode({ name: name.address, nameLen: BigInt(name.length) });
  file.ioctl("DRM_IOCTL_VERSION", arg);
  const length = Math.min(Number(DrmVersionStruct.decode(arg).nameLen), name.length);
  return new TextDecoder().decode(name.bytes().subarray(0, length));
}

/** The `/dev/dri/card*` nodes of this system, sorted; [] when there is no /dev/dri. */
export function drmCardPaths(dir = DRI_DIR): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => CARD_NODE.test(name)).sort(
      (a, b) => Number(a.slice(4)) - Number(b.slice(4)),
    ).map((name) => `${dir}/${name}`);
  } catch {
    return [];
  }
}

/** Thrown when no vgem device can be opened; the message says what was tried and what provides vgem. */
export class VgemUnavailableError extends Error {
  /** Each card tried, with its driver name or the errno name it failed with. */
  readonly tried: readonly string[];
  /** Makes the error from the attempts. */
  constructor(tried: readonly string[]) {
    const list = tried.length === 0 ? `no ${DRI_DIR}/card* nodes` : `tried ${tried.join(", ")}`;
    super(`vgem is not available: ${list}; vgem ${VGEM_REQUIREMENT}`);
    this.name = "VgemUnavailableError";
    this.tried = tried;
  }
}

/** Options of {@link Vgem.createDumb}. */
export interface DumbOptions {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** Bits per pixel; default 32. */
  bpp?: number;
}

/** A dumb buffer created on vgem. */
export interface DumbBuffer {
  /** GEM handle (valid on this vgem fd only). */
  handle: number;
  /** Bytes per row. */
  pitch: number;
  /** Size in bytes. */
  size: number;
}

const DEFAULT_BPP = 32;

/** An open vgem DRM device. */
export class Vgem implements Disposable {
  /** The owned DRM fd. */
  readonly file: Fd;

  private constructor(file: Fd) {
    this.file = file;
  }

  /**
   * Opens the first `/dev/dri/card*` whose driver is vgem.
   * @throws {VgemUnavailableError} when there is none (or none can be opened)
   */
  static open(paths: readonly string[] = drmCardPaths()): Vgem {
    const tried: string[] = [];
    for (const path of paths) {
      let file: Fd;
      try {
        file = openPath(path, { flags: OpenFlags.O_RDWR });
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        tried.push(`${path} (${error.code})`);
        continue;
      }
      try {
        const driver = drmDriverName(file);
        if (driver === VGEM_DRIVER_NAME) return new Vgem(file);
        tried.push(`${path} (${driver})`);
      } catch (error) {
        tried.push(`${path} (${error instanceof SyscallError ? error.code : String(error)})`);
      }
      file.close();
    }
    throw new VgemUnavailableError(tried);
  }

  /** The device path. */
  get path(): string {
    return this.file.label;
  }

  /** `DRM_IOCTL_MODE_CREATE_DUMB`: a new buffer object. @throws {SyscallError} */
  createDumb(options: DumbOptions): DumbBuffer {
    const arg = DrmModeCreateDumbStruct.encode({
      width: options.width,
      height: options.height,
      bpp: options.bpp ?? DEFAULT_BPP,
      flags: 0,
      handle: 0,
      pitch: 0,
      size: 0n,
    });
    this.file.ioctl("DRM_IOCTL_MODE_CREATE_DUMB", arg);
    const answer = DrmModeCreateDumbStruct.decode(arg);
    return { handle: answer.handle, pitch: answer.pitch, size: Number(answer.size) };
  }

  /** `DRM_IOCTL_PRIME_HANDLE_TO_FD` (read-write, close-on-exec): the buffer as a dma-buf. @throws {SyscallError} */
  exportDmaBuf(handle: number): DmaBuf {
    const arg = DrmPrimeHandleStruct.encode({ handle, flags: DRM_CLOEXEC | DRM_RDWR, fd: -1 });
    this.file.ioctl("DRM_IOCTL_PRIME_HANDLE_TO_FD", arg);
    return new DmaBuf(new Fd(DrmPrimeHandleStruct.decode(arg).fd, `vgem dma-buf (handle ${handle})`));
  }

  /**
   * `DRM_IOCTL_PRIME_FD_TO_HANDLE`: imports a dma-buf into vgem (vgem attaches its device to it, so bufinfo lists
   * the attachment); returns the GEM handle.
   * @throws {SyscallError}
   */
  importDmaBuf(buffer: DmaBuf): number {
    const arg = DrmPrimeHandleStruct.encode({ handle: 0, flags: 0, fd: buffer.fd });
    this.file.ioctl("DRM_IOCTL_PRIME_FD_TO_HANDLE", arg);
    return DrmPrimeHandleStruct.decode(arg).handle;
  }

  /**
   * `DRM_IOCTL_VGEM_FENCE_ATTACH`: attaches an unsignalled fence to the buffer's reservation object, as a
   * write fence when `write` (`VGEM_FENCE_WRITE`) else a read fence; returns the fence id.
   * @throws {SyscallError} EBUSY when it conflicts with an unsignalled fence, ENOENT for an unknown handle
   */
  attachFence(handle: number, options: { write: boolean }): number {
    const arg = VgemFenceAttachStruct.encode({
      handle,
      flags: options.write ? VGEM_FENCE_WRITE : 0,
      outFence: 0,
    });
    this.file.ioctl("DRM_IOCTL_VGEM_FENCE_ATTACH", arg);
    return VgemFenceAttachStruct.decode(arg).outFence;
  }

  /** `DRM_IOCTL_VGEM_FENCE_SIGNAL`: signals a fence from {@link attachFence}. @throws {SyscallError} ENOENT */
  signalFence(fence: number): void {
    this.file.ioctl("DRM_IOCTL_VGEM_FENCE_SIGNAL", VgemFenceSignalStruct.encode({ fence, flags: 0 }));
  }

  /** `DRM_IOCTL_GEM_CLOSE`: drops the handle (exported dma-bufs keep the buffer alive). @throws {SyscallError} */
  closeHandle(handle: number): void {
    this.file.ioctl("DRM_IOCTL_GEM_CLOSE", DrmGemCloseStruct.encode({ handle }));
  }

  /** Closes the device; idempotent. Unsignalled fences still signal by themselves after 10 s. */
  close(): void {
    this.file.close();
  }

  /** Closes the device, swallowing errors. */
  [Symbol.dispose](): void {
    this.file[Symbol.dispose]();
  }
}
