/**
 * udmabuf (`/dev/udmabuf`, `include/uapi/linux/udmabuf.h`): a dma-buf over the pages of a sealed memfd.
 * @module
 */

import { DmaBuf } from "./dma_buf.ts";
import { Fcntl, fcntl, Fd, memfdCreate, MemfdFlags, OpenFlags, openPath } from "./fd.ts";
import { UDMABUF_FLAGS_CLOEXEC } from "./ioctl.ts";
import { UdmabufCreateStruct } from "./structs.ts";
import { UDMABUF_PATH } from "./dma_heap.ts";
import { pageAlign } from "./page_size.ts";

/** The driver's default `size_limit_mb` module parameter: larger buffers fail with EINVAL. */
export const UDMABUF_DEFAULT_LIMIT_MB = 64;

/** Where the driver's size limit can be read when udmabuf is a module. */
export const UDMABUF_LIMIT_PATH = "/sys/module/udmabuf/parameters/size_limit_mb";

/** The udmabuf size limit in bytes: the module parameter when readable, else the default. */
export function udmabufLimit(): number {
  try {
    return Number(Deno.readTextFileSync(UDMABUF_LIMIT_PATH).trim()) * 1024 * 1024;
  } catch {
    return UDMABUF_DEFAULT_LIMIT_MB * 1024 * 1024;
  }
}

/**
 * A memfd of `length` bytes (rounded up to the kernel's page size) sealed against shrinking, as `UDMABUF_CREATE` requires.
 * @throws {SyscallError}
 */
export function sealedMemfd(name: string, length: number): Fd {
  const memfd = memfdCreate(name, BigInt(pageAlign(length)), MemfdFlags.MFD_ALLOW_SEALING);
  try {
    fcntl(memfd.fd, Fcntl.F_ADD_SEALS, Fcntl.F_SEAL_SHRINK, memfd.label);
  } catch (error) {
    memfd[Symbol.dispose]();
    throw error;
  }
  return memfd;
}

/**
 * `UDMABUF_CREATE` over `[offset, offset + size)` of `memfd`: the new dma-buf is the ioctl's return value.
 * @throws {SyscallError} ENOENT without /dev/udmabuf, EINVAL for unsealed memfds, unaligned ranges or sizes
 * over the driver's limit
 */
export function createUdmabuf(memfd: Fd, size: number, offset = 0, device = UDMABUF_PATH): DmaBuf {
  using dev = openPath(device, { flags: OpenFlags.O_RDWR });
  const arg = UdmabufCreateStruct.encode({
    memfd: memfd.fd,
    flags: UDMABUF_FLAGS_CLOEXEC,
    offset: BigInt(offset),
    size: BigInt(size),
  });
  const fd = dev.ioctl("UDMABUF_CREATE", arg);
  return new DmaBuf(new Fd(fd, `dma-buf from udmabuf`));
}

/**
 * A new udmabuf of `length` bytes (rounded up to the kernel's page size, which `UDMABUF_CREATE` requires) over its own sealed memfd; the memfd is closed afterwards
 * (the dma-buf keeps the pages).
 * @throws {SyscallError}
 */
export function allocUdmabuf(length: number, name = "dmabuf"): DmaBuf {
  using memfd = sealedMemfd(name, length);
  return createUdmabuf(memfd, pageAlign(length));
}
