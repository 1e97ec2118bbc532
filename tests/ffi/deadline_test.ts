import assert from "node:assert/strict";
import {
  DeadlineIoctl,
  DeadlineUnsupportedError,
  setDeadline,
  SwSyncGetDeadlineStruct,
  SyncSetDeadlineStruct,
} from "../../ffi/deadline.ts";
import { memfdCreate } from "../../ffi/fd.ts";

// Computed by hand from the 6.12 headers (include/uapi/linux/sync_file.h, drivers/dma-buf/sw_sync.c):
// _IOW('>', 5, 16) = 1<<30 | 16<<16 | 0x3e<<8 | 5; _IOWR('W', 2, 16) = 3<<30 | 16<<16 | 0x57<<8 | 2.
// kernel-interfaces.md §1 lists the same values.
Deno.test("ioctl SYNC_IOC_SET_DEADLINE is 0x40103e05", () => {
  assert.equal(DeadlineIoctl.SYNC_IOC_SET_DEADLINE, 0x40103e05n);
});

Deno.test("ioctl SW_SYNC_GET_DEADLINE is 0xc0105702", () => {
  assert.equal(DeadlineIoctl.SW_SYNC_GET_DEADLINE, 0xc0105702n);
});

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("struct sync_set_deadline: deadline_ns u64 @0, pad u64 @8 zero (16 bytes)", () => {
  assert.equal(SyncSetDeadlineStruct.SIZE, 16);
  const bytes = SyncSetDeadlineStruct.encode(0x0102030405060708n);
  assert.equal(hex(bytes), "0807060504030201" + "0000000000000000");
  assert.deepEqual(SyncSetDeadlineStruct.decode(bytes), { deadlineNs: 0x0102030405060708n, pad: 0n });
});

Deno.test("struct sw_sync_get_deadline: deadline_ns u64 @0, pad u32 @8, fence_fd s32 @12", () => {
  assert.equal(SwSyncGetDeadlineStruct.SIZE, 16);
  const bytes = SwSyncGetDeadlineStruct.encode({ deadlineNs: 0n, fenceFd: 7 });
  assert.equal(hex(bytes), "0000000000000000" + "00000000" + "07000000");
  const answer = Uint8Array.from([0x10, 0x27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(SwSyncGetDeadlineStruct.decode(answer), { deadlineNs: 10000n, fenceFd: -1 });
  assert.throws(() => SwSyncGetDeadlineStruct.decode(new Uint8Array(8)), RangeError);
});

Deno.test("setDeadline on a file that is not a sync_file fails with ENOTTY as unsupported, naming 6.8", () => {
  using memfd = memfdCreate("not-a-sync-file", 0n);
  assert.throws(() => setDeadline(memfd.fd, 1n), (error: unknown) => {
    assert.ok(error instanceof DeadlineUnsupportedError);
    assert.match(error.message, /^Fence deadlines need Linux 6\.8 or later: ioctl\(SYNC_IOC_SET_DEADLINE\)/);
    assert.equal(error.cause.code, "ENOTTY");
    return true;
  });
});
