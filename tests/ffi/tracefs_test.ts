import assert from "node:assert/strict";
import { instanceName, TRACEFS_MOUNT_COMMAND, tracefsMounts } from "../../ffi/tracefs.ts";
import { parseMounts } from "../../ffi/text/mounts.ts";

Deno.test("tracefsMounts prefers /sys/kernel/tracing and ignores other filesystems", () => {
  const text = [
    "sysfs /sys sysfs rw,nosuid 0 0",
    "debugfs /sys/kernel/debug debugfs rw 0 0",
    "tracefs /sys/kernel/debug/tracing tracefs rw 0 0",
    "nodev /sys/kernel/tracing tracefs rw 0 0",
  ].join("\n");
  assert.deepEqual(tracefsMounts(parseMounts(text)), ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]);
  assert.deepEqual(tracefsMounts(parseMounts("proc /proc proc rw 0 0\n")), []);
});

Deno.test("instanceName is dmabuf-<pid>-<6 hex> and differs between calls", () => {
  assert.match(instanceName(42), /^dmabuf-42-[0-9a-f]{6}$/);
  assert.notEqual(instanceName(), instanceName());
});

Deno.test("the mount hint is the command to type", () => {
  assert.equal(TRACEFS_MOUNT_COMMAND, "mount -t tracefs nodev /sys/kernel/tracing");
});
