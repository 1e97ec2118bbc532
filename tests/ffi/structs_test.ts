import { assertEquals, assertThrows } from "../assert.ts";
import {
  DmaBufSync,
  DmaBufSyncFile,
  DmaHeapAllocationData,
  DrmGemCloseStruct,
  DrmModeCreateDumbStruct,
  DrmPrimeHandleStruct,
  DrmVersionStruct,
  PollFdStruct,
  StatxStruct,
  SwSyncCreateFenceData,
  SwSyncGetDeadlineStruct,
  SyncFenceInfoStruct,
  SyncFileInfoStruct,
  SyncMergeData,
  SyncSetDeadlineStruct,
  U32,
  UdmabufCreateStruct,
  VgemFenceAttachStruct,
  VgemFenceSignalStruct,
} from "../../ffi/structs.ts";

/** Bytes from a hex string with spaces for readability. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** `text` as bytes padded with NULs to `length`. */
function padded(text: string, length: number): string {
  const bytes = new TextEncoder().encode(text);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") + "00".repeat(length - bytes.length);
}

Deno.test("struct sizes match the kernel's (LP64)", () => {
  assertEquals(
    [
      DmaBufSync.SIZE,
      DmaBufSyncFile.SIZE,
      DmaHeapAllocationData.SIZE,
      SyncMergeData.SIZE,
      SyncFenceInfoStruct.SIZE,
      SyncFileInfoStruct.SIZE,
      SwSyncCreateFenceData.SIZE,
      U32.SIZE,
      UdmabufCreateStruct.SIZE,
      DrmPrimeHandleStruct.SIZE,
      DrmModeCreateDumbStruct.SIZE,
      VgemFenceAttachStruct.SIZE,
      VgemFenceSignalStruct.SIZE,
      DrmGemCloseStruct.SIZE,
      DrmVersionStruct.SIZE,
      PollFdStruct.SIZE,
      StatxStruct.SIZE,
      SyncSetDeadlineStruct.SIZE,
      SwSyncGetDeadlineStruct.SIZE,
    ],
    [8, 8, 24, 48, 80, 56, 40, 4, 24, 12, 32, 16, 8, 8, 64, 8, 256, 16, 16],
  );
});

Deno.test("struct dma_buf_sync encodes flags as a little-endian u64", () => {
  const bytes = DmaBufSync.encode({ flags: 0x7 });
  assertEquals(bytes, hex("07 00 00 00 00 00 00 00"));
  assertEquals(DmaBufSync.decode(bytes), { flags: 7 });
});

Deno.test("struct dma_buf_export_sync_file puts flags at 0 and fd at 4", () => {
  const bytes = DmaBufSyncFile.encode({ flags: 2, fd: -1 });
  assertEquals(bytes, hex("02 00 00 00 ff ff ff ff"));
  assertEquals(DmaBufSyncFile.decode(hex("01 00 00 00 07 00 00 00")), { flags: 1, fd: 7 });
});

Deno.test("struct dma_heap_allocation_data: len @0, fd @8, fd_flags @12, heap_flags @16", () => {
  const value = { len: 0x100001n, fd: 0, fdFlags: 0x80002, heapFlags: 0n };
  const bytes = DmaHeapAllocationData.encode(value);
  assertEquals(bytes, hex("01 00 10 00 00 00 00 00  00 00 00 00  02 00 08 00  00 00 00 00 00 00 00 00"));
  const answer = hex("00 10 00 00 00 00 00 00  05 00 00 00  02 00 08 00  11 11 11 00 00 00 00 00");
  assertEquals(DmaHeapAllocationData.decode(answer), {
    len: 4096n,
    fd: 5,
    fdFlags: 0x80002,
    heapFlags: 0x111111n,
  });
});

Deno.test("struct sync_merge_data: name[32], fd2 @32, fence @36, flags and pad zero", () => {
  const bytes = SyncMergeData.encode({ name: "merged", fd2: 4, fence: -1 });
  assertEquals(bytes, hex(padded("merged", 32) + "04000000 ffffffff 00000000 00000000"));
  assertEquals(SyncMergeData.decode(hex(padded("m", 32) + "04000000 09000000 00000000 00000000")), {
    name: "m",
    fd2: 4,
    fence: 9,
  });
});

Deno.test("struct sync_fence_info: obj_name, driver_name, status @64, flags @68, timestamp_ns @72", () => {
  const bytes = hex(padded("deno", 32) + padded("sw_sync", 32) + "ffffffff 00000000 0010000000000000");
  assertEquals(SyncFenceInfoStruct.decode(bytes), {
    timeline: "deno",
    driver: "sw_sync",
    status: -1,
    flags: 0,
    timestampNs: 4096n,
  });
  assertEquals(SyncFenceInfoStruct.encode(SyncFenceInfoStruct.decode(bytes)), bytes);
});

Deno.test("struct sync_file_info: name, status @32, flags @36, num_fences @40, pad, sync_fence_info @48", () => {
  const bytes = SyncFileInfoStruct.encode({
    name: "",
    status: 0,
    flags: 0,
    numFences: 2,
    fenceInfo: 0x7f0012345678n,
  });
  assertEquals(bytes, hex("00".repeat(32) + "00000000 00000000 02000000 00000000 7856341200 7f0000"));
  const answer = hex(padded("sw_sync-deno1-5", 32) + "01000000 00000000 03000000 00000000 0000000000000000");
  assertEquals(SyncFileInfoStruct.decode(answer), {
    name: "sw_sync-deno1-5",
    status: 1,
    flags: 0,
    numFences: 3,
    fenceInfo: 0n,
  });
});

Deno.test("struct sw_sync_create_fence_data: value @0, name @4, fence @36", () => {
  const bytes = SwSyncCreateFenceData.encode({ value: 5, name: "f", fence: 0 });
  assertEquals(bytes, hex("05000000" + padded("f", 32) + "00000000"));
  assertEquals(SwSyncCreateFenceData.decode(hex("05000000" + padded("", 32) + "06000000")).fence, 6);
});

Deno.test("SW_SYNC_IOC_INC argument is a little-endian u32", () => {
  assertEquals(U32.encode({ value: 0x01020304 }), hex("04 03 02 01"));
  assertEquals(U32.decode(hex("ff ff ff ff")), { value: 0xffffffff });
});

Deno.test("struct udmabuf_create: memfd @0, flags @4, offset @8, size @16", () => {
  const bytes = UdmabufCreateStruct.encode({ memfd: 3, flags: 1, offset: 0x1000n, size: 0x200000n });
  assertEquals(bytes, hex("03000000 01000000 0010000000000000 0000200000000000"));
  assertEquals(UdmabufCreateStruct.decode(bytes), { memfd: 3, flags: 1, offset: 0x1000n, size: 0x200000n });
});

Deno.test("struct drm_prime_handle: handle, flags, fd", () => {
  const bytes = DrmPrimeHandleStruct.encode({ handle: 1, flags: 0x80002, fd: -1 });
  assertEquals(bytes, hex("01000000 02000800 ffffffff"));
  assertEquals(DrmPrimeHandleStruct.decode(hex("02000000 00000000 09000000")), {
    handle: 2,
    flags: 0,
    fd: 9,
  });
});

Deno.test("struct drm_mode_create_dumb: six u32 then size u64 @24", () => {
  const value = { height: 64, width: 64, bpp: 32, flags: 0, handle: 0, pitch: 0, size: 0n };
  assertEquals(
    DrmModeCreateDumbStruct.encode(value),
    hex("40000000 40000000 20000000 00000000 00000000 00000000 0000000000000000"),
  );
  const answer = hex("40000000 40000000 20000000 00000000 01000000 00010000 0000010000000000");
  assertEquals(DrmModeCreateDumbStruct.decode(answer), { ...value, handle: 1, pitch: 256, size: 0x10000n });
});

Deno.test("struct drm_vgem_fence_attach and drm_vgem_fence_signal", () => {
  assertEquals(
    VgemFenceAttachStruct.encode({ handle: 1, flags: 1, outFence: 0 }),
    hex("01000000 01000000 00000000 00000000"),
  );
  assertEquals(VgemFenceAttachStruct.decode(hex("01000000 01000000 07000000 00000000")).outFence, 7);
  assertEquals(VgemFenceSignalStruct.encode({ fence: 7, flags: 0 }), hex("07000000 00000000"));
  assertEquals(DrmGemCloseStruct.encode({ handle: 3 }), hex("03000000 00000000"));
});

Deno.test("struct drm_version carries the name buffer's length @16 and address @24", () => {
  const bytes = DrmVersionStruct.encode({ name: 0x1000n, nameLen: 32n });
  assertEquals(bytes.subarray(16, 32), hex("2000000000000000 0010000000000000"));
  assertEquals(DrmVersionStruct.decode(bytes), { nameLen: 32n, name: 0x1000n });
});

Deno.test("struct pollfd arrays: fd, events, revents", () => {
  const bytes = PollFdStruct.encodeArray([{ fd: 3, events: 1, revents: 0 }, {
    fd: 4,
    events: 4,
    revents: 0,
  }]);
  assertEquals(bytes, hex("03000000 0100 0000 04000000 0400 0000"));
  bytes[6] = 1;
  assertEquals(PollFdStruct.decodeArray(bytes)[0], { fd: 3, events: 1, revents: 1 });
});

Deno.test("struct statx: uid @20, gid @24, mode @28, ino @32, size @40, rdev @128", () => {
  const bytes = new Uint8Array(256);
  bytes.set(hex("e8030000 e9030000 a481"), 20);
  bytes.set(hex("2a00000000000000 0000100000000000"), 32);
  bytes.set(hex("fa000000 01000000"), 128);
  assertEquals(StatxStruct.decode(bytes), {
    uid: 1000,
    gid: 1001,
    mode: 0o100644,
    ino: 42n,
    size: 0x100000n,
    rdevMajor: 250,
    rdevMinor: 1,
  });
});

Deno.test("decoders reject short buffers and names that do not fit with their NUL", () => {
  assertThrows(() => DmaHeapAllocationData.decode(new Uint8Array(23)), RangeError, "need 24");
  assertThrows(
    () => SyncMergeData.encode({ name: "x".repeat(32), fd2: 0, fence: 0 }),
    RangeError,
    "at most 31",
  );
  assertEquals(
    SyncMergeData.decode(SyncMergeData.encode({ name: "x".repeat(31), fd2: 0, fence: 0 })).name,
    "x".repeat(31),
  );
});

Deno.test("struct sync_set_deadline: deadline_ns u64 @0, pad u64 @8 zero", () => {
  const bytes = SyncSetDeadlineStruct.encode({ deadlineNs: 0x0102030405060708n });
  assertEquals(bytes, hex("08 07 06 05 04 03 02 01  00 00 00 00 00 00 00 00"));
  assertEquals(SyncSetDeadlineStruct.decode(bytes), { deadlineNs: 0x0102030405060708n, pad: 0n });
});

Deno.test("struct sw_sync_get_deadline: deadline_ns u64 @0, pad u32 @8, fence_fd s32 @12", () => {
  const bytes = SwSyncGetDeadlineStruct.encode({ deadlineNs: 0n, fenceFd: 7 });
  assertEquals(bytes, hex("00 00 00 00 00 00 00 00  00 00 00 00  07 00 00 00"));
  assertEquals(
    SwSyncGetDeadlineStruct.decode(hex("10 27 00 00 00 00 00 00  00 00 00 00  ff ff ff ff")),
    { deadlineNs: 10000n, fenceFd: -1 },
  );
  assertThrows(() => SwSyncGetDeadlineStruct.decode(new Uint8Array(8)), RangeError);
});
