import { assertEquals, assertThrows } from "../assert.ts";
import { DmaBufSyncFlags, ioc, Ioctl, ior, iow, iowr } from "../../ffi/ioctl.ts";

// The kernel's values on LP64 (x86_64 and arm64), computed with gcc from the 6.1 UAPI headers
// (kernel-interfaces.md §1). A change in _IOC encoding or a struct SIZE shows up here.
const KERNEL_VALUES: Record<keyof typeof Ioctl, bigint> = {
  DMA_BUF_IOCTL_SYNC: 0x40086200n,
  DMA_BUF_SET_NAME: 0x40086201n,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE: 0xc0086202n,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE: 0x40086203n,
  DMA_HEAP_IOCTL_ALLOC: 0xc0184800n,
  SYNC_IOC_MERGE: 0xc0303e03n,
  SYNC_IOC_FILE_INFO: 0xc0383e04n,
  SYNC_IOC_SET_DEADLINE: 0x40103e05n, // 6.8+; computed from the 6.12 headers
  SW_SYNC_GET_DEADLINE: 0xc0105702n, // 6.8+; drivers/dma-buf/sw_sync.c of 6.12
  SW_SYNC_IOC_CREATE_FENCE: 0xc0285700n,
  SW_SYNC_IOC_INC: 0x40045701n,
  UDMABUF_CREATE: 0x40187542n,
  DRM_IOCTL_VERSION: 0xc0406400n,
  DRM_IOCTL_GEM_CLOSE: 0x40086409n,
  DRM_IOCTL_PRIME_HANDLE_TO_FD: 0xc00c642dn,
  DRM_IOCTL_PRIME_FD_TO_HANDLE: 0xc00c642en,
  DRM_IOCTL_MODE_CREATE_DUMB: 0xc02064b2n,
  DRM_IOCTL_VGEM_FENCE_ATTACH: 0xc0106441n,
  DRM_IOCTL_VGEM_FENCE_SIGNAL: 0x40086442n,
};

for (const [name, expected] of Object.entries(KERNEL_VALUES)) {
  Deno.test(`ioctl ${name} is 0x${expected.toString(16)}`, () => {
    assertEquals(Ioctl[name as keyof typeof Ioctl], expected);
  });
}

Deno.test("ioctl table has no request without a kernel value in this test", () => {
  assertEquals(Object.keys(Ioctl).sort(), Object.keys(KERNEL_VALUES).sort());
});

Deno.test("ioc encodes dir, size, type and nr into their bit fields", () => {
  assertEquals(ioc(0, 0, 0, 0), 0n);
  assertEquals(ioc(3, 0xff, 0xff, 0x3fff), 0xffffffffn);
  assertEquals(iow("b", 0, 8), 0x40086200n);
  assertEquals(ior("I", 9, 4), 0x80044909n); // ION_IOC_ABI_VERSION
  assertEquals(iowr("H", 0, 24), 0xc0184800n);
  assertEquals(ioc(1, 0x62, 1, 4), 0x40046201n); // DMA_BUF_SET_NAME_A, the 32-bit userspace value
});

Deno.test("ioc rejects fields that do not fit their bits", () => {
  assertThrows(() => ioc(4, "b", 0, 8), RangeError);
  assertThrows(() => ioc(1, 0x100, 0, 8), RangeError);
  assertThrows(() => ioc(1, "b", 256, 8), RangeError);
  assertThrows(() => ioc(1, "b", 0, 1 << 14), RangeError);
});

Deno.test("DMA_BUF_SYNC flags match include/uapi/linux/dma-buf.h", () => {
  assertEquals(DmaBufSyncFlags, {
    DMA_BUF_SYNC_READ: 1,
    DMA_BUF_SYNC_WRITE: 2,
    DMA_BUF_SYNC_RW: 3,
    DMA_BUF_SYNC_START: 0,
    DMA_BUF_SYNC_END: 4,
    DMA_BUF_SYNC_VALID_FLAGS_MASK: 7,
  });
});
