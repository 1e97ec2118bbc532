import assert from "node:assert/strict";
import { DeadlineUnsupportedError, getSwSyncDeadline, setDeadline } from "../../ffi/deadline.ts";
import { memfdCreate } from "../../ffi/fd.ts";

// The request numbers are in tests/ffi/ioctl_test.ts, the struct layouts in tests/ffi/structs_test.ts.

Deno.test("setDeadline on a file that is not a sync_file fails with ENOTTY as unsupported, naming 6.8", () => {
  using memfd = memfdCreate("not-a-sync-file", 0n);
  assert.throws(() => setDeadline(memfd, 1n), (error: unknown) => {
    assert.ok(error instanceof DeadlineUnsupportedError);
    assert.match(error.message, /^Fence deadlines need Linux 6\.8 or later: ioctl\(SYNC_IOC_SET_DEADLINE\)/);
    assert.equal(error.cause.code, "ENOTTY");
    return true;
  });
});

Deno.test("getSwSyncDeadline on a file that is not a sw_sync timeline fails with ENOTTY as unsupported", () => {
  using memfd = memfdCreate("not-a-timeline", 0n);
  assert.throws(() => getSwSyncDeadline(memfd, 0), DeadlineUnsupportedError);
});
