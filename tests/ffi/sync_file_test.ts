/**
 * sync_file, sw_sync, vgem and the sliced wait without fence hardware: decoding of `sync_fence_info` arrays,
 * status words, the sw_sync path search and its "missing" message, vgem discovery over non-vgem fds, and
 * waits on memfds (which poll ready for POLLIN and never for POLLPRI).
 */
import assert from "node:assert/strict";
import { memfdCreate, PollEvents } from "../../ffi/fd.ts";
import { InvalidPollFdError, WAIT_SLICE_MS, waitForEvents } from "../../ffi/fence_wait.ts";
import { SyncFenceInfoStruct } from "../../ffi/structs.ts";
import {
  decodeFenceInfos,
  fenceError,
  fenceStatusText,
  monotonicNowNs,
  NotASyncFileError,
  SyncFile,
} from "../../ffi/sync_file.ts";
import {
  LEGACY_SW_SYNC_PATH,
  swSyncCandidates,
  SwSyncTimeline,
  SwSyncUnavailableError,
} from "../../ffi/sw_sync.ts";
import { Vgem, VgemUnavailableError } from "../../ffi/vgem.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { openFdCount } from "../fds.ts";

Deno.test("decodeFenceInfos reads each 80-byte sync_fence_info of an array", () => {
  const first = { timeline: "deno", driver: "sw_sync", status: 1, flags: 0, timestampNs: 123456789n };
  const second = { timeline: "vgem", driver: "vgem", status: -2, flags: 1, timestampNs: 0n };
  const bytes = new Uint8Array(2 * SyncFenceInfoStruct.SIZE);
  bytes.set(SyncFenceInfoStruct.encode(first), 0);
  bytes.set(SyncFenceInfoStruct.encode(second), SyncFenceInfoStruct.SIZE);
  assert.deepEqual(decodeFenceInfos(bytes, 2), [first, second]);
  assert.deepEqual(decodeFenceInfos(bytes, 0), []);
  assert.throws(() => decodeFenceInfos(bytes, 3), RangeError);
});

Deno.test("fence status words: 1 signalled, 0 active, negative errno as -NAME", () => {
  assert.equal(fenceStatusText(1), "signalled");
  assert.equal(fenceStatusText(0), "active");
  assert.equal(fenceStatusText(-2), "-ENOENT");
  assert.equal(fenceStatusText(-110), "-ETIMEDOUT");
  assert.equal(fenceError(-2), "ENOENT");
  assert.equal(fenceError(1), null);
  assert.equal(fenceError(0), null);
});

Deno.test("monotonicNowNs is CLOCK_MONOTONIC in ns and moves forward", async () => {
  const before = monotonicNowNs();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = monotonicNowNs() - before;
  assert.ok(elapsed >= 15_000_000n && elapsed < 5_000_000_000n, `elapsed ${elapsed} ns`);
});

Deno.test("SyncFile.duplicate of a memfd says what the fd is and leaves no fd behind", () => {
  using memfd = memfdCreate("not-a-fence", 4096n);
  const before = openFdCount();
  assert.throws(() => SyncFile.duplicate(memfd.fd), NotASyncFileError);
  assert.throws(() => SyncFile.duplicate(memfd.fd), /is not a sync_file: it is \/memfd:not-a-fence/);
  assert.equal(openFdCount(), before);
  assert.equal(memfd.open, true);
});

Deno.test("SyncFile.duplicate of a closed fd fails with EBADF", () => {
  assert.throws(
    () => SyncFile.duplicate(987654),
    (error: unknown) => error instanceof SyscallError && error.is("EBADF"),
  );
});

Deno.test("sw_sync candidates: sync/sw_sync under each debugfs mount, the default without one, then /dev/sw_sync", () => {
  assert.deepEqual(swSyncCandidates([]), ["/sys/kernel/debug/sync/sw_sync", LEGACY_SW_SYNC_PATH]);
  assert.deepEqual(swSyncCandidates(["/mnt/dbg", "/sys/kernel/debug"]), [
    "/mnt/dbg/sync/sw_sync",
    "/sys/kernel/debug/sync/sw_sync",
    LEGACY_SW_SYNC_PATH,
  ]);
});

Deno.test("SwSyncUnavailableError names what is missing and the kernel config that provides it", () => {
  const notMounted = new SwSyncUnavailableError(
    [{ path: "/sys/kernel/debug/sync/sw_sync", code: "ENOENT" }],
    false,
  );
  assert.match(notMounted.message, /^sw_sync is not available: debugfs is not mounted/);
  assert.match(notMounted.message, /needs CONFIG_SW_SYNC=y and debugfs mounted \(as root\)$/);
  const noDriver = new SwSyncUnavailableError(
    [{ path: "/sys/kernel/debug/sync/sw_sync", code: "ENOENT" }],
    true,
  );
  assert.match(
    noDriver.message,
    /the kernel has no sw_sync; tried \/sys\/kernel\/debug\/sync\/sw_sync \(ENOENT\)/,
  );
  const denied = new SwSyncUnavailableError(
    [{ path: "/sys/kernel/debug/sync/sw_sync", code: "EACCES" }],
    true,
  );
  assert.match(denied.message, /permission denied on \/sys\/kernel\/debug\/sync\/sw_sync: .*run as root/);
});

Deno.test("SwSyncTimeline.open over paths that do not exist throws SwSyncUnavailableError listing them", () => {
  const error = (() => {
    try {
      SwSyncTimeline.open(["/nonexistent/sync/sw_sync", "/nonexistent/sw_sync"]);
    } catch (error) {
      return error;
    }
    throw new Error("opened a timeline from paths that do not exist");
  })();
  assert.ok(error instanceof SwSyncUnavailableError);
  assert.deepEqual(error.tried.map((t) => t.code), ["ENOENT", "ENOENT"]);
  assert.match(error.message, /CONFIG_SW_SYNC=y/);
});

Deno.test("Vgem.open skips fds that are not DRM nodes and says vgem is missing", () => {
  assert.throws(
    () => Vgem.open([]),
    /^VgemUnavailableError: vgem is not available: no \/dev\/dri\/card\* nodes; vgem needs CONFIG_DRM_VGEM=y/,
  );
  const error = (() => {
    try {
      Vgem.open(["/dev/null", "/nonexistent/card0"]);
    } catch (error) {
      return error;
    }
    throw new Error("found vgem at /dev/null");
  })();
  assert.ok(error instanceof VgemUnavailableError);
  assert.deepEqual(error.tried, ["/dev/null (ENOTTY)", "/nonexistent/card0 (ENOENT)"]);
});

Deno.test("waitForEvents returns ready at once when the fd is ready", async () => {
  using memfd = memfdCreate("ready", 4096n);
  const outcome = await waitForEvents({ fd: memfd.fd, events: PollEvents.POLLIN }, { timeoutMs: 1000 });
  assert.equal(outcome.kind, "ready");
  assert.ok(outcome.kind === "ready" && (outcome.revents & PollEvents.POLLIN) !== 0);
});

Deno.test("waitForEvents times out no earlier than the timeout, and timeout 0 looks once", async () => {
  using memfd = memfdCreate("never", 4096n);
  const start = performance.now();
  const outcome = await waitForEvents({ fd: memfd.fd, events: PollEvents.POLLPRI }, { timeoutMs: 250 });
  const elapsed = performance.now() - start;
  assert.equal(outcome.kind, "timeout");
  // Lower bounds on one clock each (no upper bound: a loaded machine may run late, and a timeout cannot hang).
  assert.ok(outcome.elapsedMs >= 250, `reported ${outcome.elapsedMs} ms`);
  assert.ok(elapsed >= outcome.elapsedMs, `returned after ${elapsed} ms, reported ${outcome.elapsedMs} ms`);
  const once = await waitForEvents({ fd: memfd.fd, events: PollEvents.POLLPRI }, { timeoutMs: 0 });
  assert.equal(once.kind, "timeout");
});

Deno.test("waitForEvents stops once the signal aborts (how Ctrl-C ends a wait), after a slice or more", async () => {
  using memfd = memfdCreate("never", 4096n);
  const controller = new AbortController();
  let abortedAt = Infinity;
  // Abort once the wait is under way (a slice has passed), not at a fixed time: what matters is the order.
  setTimeout(() => {
    abortedAt = performance.now();
    controller.abort("SIGINT");
  }, WAIT_SLICE_MS);
  // Without a timeout the wait only ends by the signal: if it ignored it, the test would hang (caught by this).
  const hang = setTimeout(() => controller.abort("hang"), 60_000);
  const outcome = await waitForEvents({ fd: memfd.fd, events: PollEvents.POLLPRI }, {
    signal: controller.signal,
  });
  const returnedAt = performance.now();
  clearTimeout(hang);
  assert.equal(outcome.kind, "aborted");
  assert.equal(controller.signal.reason, "SIGINT");
  assert.ok(returnedAt >= abortedAt, "returned after the abort");
});

Deno.test("waitForEvents on an fd that is not open throws InvalidPollFdError", async () => {
  await assert.rejects(
    waitForEvents({ fd: 987654, events: PollEvents.POLLIN, label: "fd 987654" }),
    InvalidPollFdError,
  );
});
