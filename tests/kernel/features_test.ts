/**
 * The kernel table of README.md (tests/kernel/features.ts), checked on the kernel this runs on: each feature is
 * probed for real and must be present exactly where the table says. On a kernel that is not one of the tiers'
 * the test is ignored (the table says nothing about it); in the VM every tier kernel is one.
 */
import assert from "node:assert/strict";
import { exists, hwTest, type Need, needs } from "./hw.ts";
import { KERNEL_FEATURES, tierKernel } from "./features.ts";
import { DmaHeap } from "../../ffi/dma_heap.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { SwSyncTimeline } from "../../ffi/sw_sync.ts";
import { Vgem } from "../../ffi/vgem.ts";
import { decodeSyncFileInfo } from "../../ffi/sync_file.ts";
import { DeadlineUnsupportedError, setDeadlineIn } from "../../ffi/deadline.ts";
import { parseBufinfo } from "../../ffi/text/bufinfo.ts";
import { readTaint, TAINT_SOFTLOCKUP_BIT } from "../../ffi/taint.ts";
import { findKunit } from "../commands/lab/kunit.ts";
import { poll, PollEvents } from "../../ffi/fd.ts";
import { bpfIteratorStatus } from "../../ffi/bpf/dmabuf_iter.ts";

const BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";
const TRACEFS = "/sys/kernel/tracing";

/** Whether `fn` succeeded, false when it threw a SyscallError with `errno`. */
function unlessErrno(errno: "ENOTTY" | "EBUSY", fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof SyscallError && error.is(errno)) return false;
    throw error;
  }
}

/** The kernel's kunit.py beside the VM's selftests (see lab_formats_test.ts), else any. */
async function kunitPath(): Promise<string | null> {
  const selftests = Deno.env.get("DMABUF_VM_SELFTESTS");
  const beside = selftests
    ? `${selftests.replace(/\/[^/]*\/?$/, "")}/linux/tools/testing/kunit/kunit.py`
    : "";
  return beside !== "" && exists(beside) ? beside : await findKunit();
}

/** Each feature's probe: whether the running kernel has it. */
const PROBES: Record<string, () => boolean | Promise<boolean>> = {
  "heap-exporter-name": () => {
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(4096);
    return buffer.fdinfo().expName === "system";
  },
  "fdinfo-ino": () => {
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(4096);
    const ino = buffer.fdinfo().ino;
    if (ino !== null) assert.equal(ino, buffer.inode(), "fdinfo's ino is the fd's inode");
    return ino !== null;
  },
  "set-name-attached": () => {
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(4096);
    using vgem = Vgem.open();
    vgem.importDmaBuf(buffer);
    try {
      buffer.setName("attached");
      return true;
    } catch (error) {
      if (!(error instanceof SyscallError && error.is("EBUSY"))) throw error;
      // The refusal says why, not just EBUSY.
      assert.match(
        error.message,
        /EBUSY \(a device is attached to the buffer, and kernels before 5\.17 refuse/,
      );
      return false;
    }
  },
  "bufinfo-name-column": () => /\tname\s*$/m.test(Deno.readTextFileSync(BUFINFO).split("\n", 3).join("\n")),
  "sysfs-stats": () => exists("/sys/kernel/dmabuf/buffers"),
  "sync-file-export-import": () => {
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(4096);
    return unlessErrno("ENOTTY", () => buffer.exportSyncFile("read").close());
  },
  "fence-deadline": () => {
    using timeline = SwSyncTimeline.open();
    using fence = timeline.createFence(1);
    try {
      setDeadlineIn(fence.file, 1_000_000n);
      return true;
    } catch (error) {
      if (error instanceof DeadlineUnsupportedError) return false;
      throw error;
    }
  },
  "default-cma-region": () => exists("/dev/dma_heap/default_cma_region"),
  "bufinfo-context-seqno": () => {
    using vgem = Vgem.open();
    const dumb = vgem.createDumb({ width: 16, height: 16 });
    using buffer = vgem.exportDmaBuf(dumb.handle);
    const fence = vgem.attachFence(dumb.handle, { write: true });
    try {
      const parsed = parseBufinfo(Deno.readTextFileSync(BUFINFO));
      const mine = parsed.buffers.find((b) => b.inode === buffer.inode());
      assert.ok(mine !== undefined && mine.fences.length > 0, "the vgem buffer and its fence are in bufinfo");
      return parsed.generation === "context:seqno";
    } finally {
      vgem.signalFence(fence);
      vgem.closeHandle(dumb.handle);
    }
  },
  "signalled-names-gone": () => {
    using timeline = SwSyncTimeline.open();
    using fence = timeline.createFence(1);
    timeline.inc(1);
    // A fresh decode of the kernel's bytes: SyncFile.info() would keep names it saw before.
    return decodeSyncFileInfo(fence.rawInfo()).fences[0]!.driver === null;
  },
  "bpf-dmabuf-iterator": () => bpfIteratorStatus().available,
  "dma-buf-events": () => exists(`${TRACEFS}/events/dma_buf`),
  "sw-sync-enable-signaling": () => {
    const instance = `${TRACEFS}/instances/features-${Deno.pid}`;
    Deno.mkdirSync(instance);
    try {
      Deno.writeTextFileSync(`${instance}/events/dma_fence/dma_fence_enable_signal/enable`, "1");
      using timeline = SwSyncTimeline.open();
      using fence = timeline.createFence(1);
      // poll() adds a callback: the kernel enables signalling, traced when the driver has the hook.
      poll([{ fd: fence.fd, events: PollEvents.POLLIN, revents: 0 }], 0);
      Deno.writeTextFileSync(`${instance}/tracing_on`, "0");
      return /dma_fence_enable_signal: driver=sw_sync/.test(Deno.readTextFileSync(`${instance}/trace`));
    } finally {
      Deno.removeSync(instance);
    }
  },
  "sw-sync-taints": () => {
    using timeline = SwSyncTimeline.open();
    timeline.createFence(1).close();
    return ((readTaint() ?? 0) & 2 ** TAINT_SOFTLOCKUP_BIT) !== 0;
  },
  "ktap-version-1": async () => {
    const kunit = await kunitPath();
    assert.ok(kunit !== null, "a kunit.py");
    const text = "KTAP version 1\n1..1\n  KTAP version 1\n  # Subtest: a\n  1..1\n  ok 1 b\nok 1 a\n";
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/k.ktap`, text);
      const run = await new Deno.Command("python3", {
        args: [kunit, "parse", `${dir}/k.ktap`],
        stdout: "piped",
      })
        .output();
      return run.code === 0 && /Ran 1 tests|1 tests run|Passed: 1/.test(new TextDecoder().decode(run.stdout));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
};

const tier = tierKernel(Deno.osRelease());
const tierNeed: Need = {
  what: "a tier kernel",
  missing: () => tier === undefined ? `kernel ${Deno.osRelease()} is not one of the table's` : undefined,
};

Deno.test("every feature of the kernel table has a probe, and every probe a feature", () => {
  assert.deepEqual(Object.keys(PROBES).sort(), KERNEL_FEATURES.map((f) => f.id).sort());
});

for (const feature of KERNEL_FEATURES) {
  hwTest({
    name: `kernel table: ${feature.id} is ${
      tier === undefined ? "as the table says" : feature.has[tier] ? "present" : "absent"
    } on Linux ${tier ?? Deno.osRelease()} (${feature.what})`,
    needs: [tierNeed, needs.systemHeap, needs.swSync, needs.vgem, needs.bufinfo],
    fn: async () => {
      assert.equal(await PROBES[feature.id]!(), feature.has[tier!]);
    },
  });
}
