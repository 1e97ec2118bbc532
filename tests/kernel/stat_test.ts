/**
 * `dmabuf stat` on a real kernel: buffers held by `dmabuf alloc --hold --name` in all three sources (debugfs
 * bufinfo, sysfs stats, /proc scan), a heap buffer imported into vgem showing the attached device, a sw_sync
 * write fence unsignalled then signalled, `--procs` attributing a held buffer to its pids with fd and map
 * refs and PSS, and the unprivileged fallback away from debugfs.
 *
 * The CLI runs in-process (`runCli`); real processes only for the holders and the unprivileged run.
 */
import { assertEquals, assertIncludes, assertOk } from "../assert.ts";
import { hwTest, needs } from "./hw.ts";
import { heapExporter, kernelHas } from "./features.ts";
import { runCli } from "../run_cli.ts";
import { type AllocReady, readReady, stdoutDrained } from "./holder.ts";
import { DmaHeap, resolveHeapName } from "../../ffi/dma_heap.ts";
import { pageAlign, pageSize } from "../../ffi/page_size.ts";
import { getFdOf } from "../../ffi/pidfd.ts";
import { DmaBuf } from "../../ffi/dma_buf.ts";
import { Vgem } from "../../ffi/vgem.ts";
import { SwSyncTimeline } from "../../ffi/sw_sync.ts";
import { DrmPrimeHandleStruct } from "../../ffi/structs.ts";
import type { StatBufferDocument, StatDocument } from "../../commands/stat/document.ts";

/** The kernel's page size: heaps hand out whole pages. */
const PAGE = pageSize();

async function statJson(args: string[]): Promise<StatDocument> {
  const { code, stdout, stderr } = await runCli(["stat", "--json", ...args]);
  assertEquals(code, 0, stderr);
  return JSON.parse(stdout);
}

function byInode(doc: StatDocument, inode: number): StatBufferDocument {
  const found = doc.buffers.find((b) => b.inode === inode);
  assertOk(found !== undefined, `inode ${inode} not in ${doc.source}: ${doc.buffers.map((b) => b.inode)}`);
  return found;
}

/** A `dmabuf alloc ... --hold --json` holder and its ready document. */
interface Holder {
  child: Deno.ChildProcess;
  ready: AllocReady;
}

async function hold(args: string[]): Promise<Holder> {
  const child = new Deno.Command("dmabuf", {
    args: ["alloc", ...args, "--hold", "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, ready: await readReady(child) };
}

async function release(holder: Holder): Promise<void> {
  holder.child.kill("SIGTERM");
  assertEquals((await holder.child.status).code, 0);
  await stdoutDrained(holder.child);
  await holder.child.stderr.cancel();
}

/** What `stat --source sysfs` says on a kernel without CONFIG_DMABUF_SYSFS_STATS (5.10, 7.2), exit 1. */
const NO_SYSFS_STATS =
  "dmabuf: /sys/kernel/dmabuf/buffers does not exist; the kernel has no CONFIG_DMABUF_SYSFS_STATS (v5.13 to v6.18)";

hwTest({
  name: `stat: buffers from alloc --hold --name show size, exporter and name in debugfs, ${
    kernelHas("sysfs-stats") ? "sysfs" : "(sysfs refused: none on this kernel)"
  } and proc sources`,
  needs: [needs.systemHeap, needs.cmaHeap, needs.udmabuf, needs.bufinfo],
  fn: async () => {
    const holders = await Promise.all([
      hold(["--heap", "system", "--size", "5000", "--name", "stat system"]),
      hold(["--heap", "cma", "--size", "64K", "--name", "stat-cma"]),
      hold(["--heap", "udmabuf", "--size", "12K", "--name", "stat-udmabuf"]),
    ]);
    try {
      const expected = [
        {
          inode: holders[0].ready.buffers[0]!.inode,
          size: pageAlign(5000),
          exporter: heapExporter("system"),
          name: "stat system",
        },
        {
          inode: holders[1].ready.buffers[0]!.inode,
          size: pageAlign(64 * 1024),
          exporter: heapExporter(resolveHeapName("cma")),
          name: "stat-cma",
        },
        {
          inode: holders[2].ready.buffers[0]!.inode,
          size: pageAlign(12 * 1024),
          exporter: "udmabuf",
          name: "stat-udmabuf",
        },
      ];
      const sysfs = kernelHas("sysfs-stats");
      const docs = {
        debugfs: await statJson(["--source", "debugfs"]),
        ...(sysfs ? { sysfs: await statJson(["--source", "sysfs"]) } : {}),
        proc: await statJson(["--source", "proc"]),
        auto: await statJson([]),
      };
      if (!sysfs) {
        const refused = await runCli(["stat", "--source", "sysfs"]);
        assertEquals([refused.code, refused.stdout], [1, ""]);
        assertEquals(refused.stderr.split("\n")[0], NO_SYSFS_STATS);
      }
      assertEquals(docs.auto.source, "debugfs"); // root in the VM: bufinfo is readable
      for (const [source, doc] of Object.entries(docs)) {
        assertEquals(doc.source, source === "auto" ? "debugfs" : source);
        for (const want of expected) {
          const got = byInode(doc, want.inode);
          assertEquals(
            { inode: got.inode, size: got.size, exporter: got.exporter, name: got.name },
            want,
            `${source}: ${JSON.stringify(got)}`,
          );
        }
      }
      for (const want of expected) {
        // bufinfo's raw file_count and fdinfo's file_count - 1 are the same quantity for an idle buffer.
        assertEquals(byInode(docs.proc, want.inode).count, byInode(docs.debugfs, want.inode).count);
        const fromBufinfo = byInode(docs.debugfs, want.inode);
        assertEquals([fromBufinfo.flags, fromBufinfo.attachments, fromBufinfo.fences], [2, [], []]);
        if (docs.sysfs !== undefined) assertEquals(byInode(docs.sysfs, want.inode).fences, null);
        assertEquals(byInode(docs.proc, want.inode).attachments, null);
      }
      // Filters through the live source.
      const named = await statJson(["--source", "debugfs", "--name", "stat*", "--sort", "inode"]);
      assertEquals(named.buffers.map((b) => b.inode), expected.map((e) => e.inode).sort((a, b) => a - b));
      const human = await runCli(["stat", "--exporter", "udmabuf"]);
      assertEquals(human.code, 0, human.stderr);
      assertOk(
        human.stdout.startsWith("Source: debugfs bufinfo (/sys/kernel/debug/dma_buf/bufinfo, bufinfo format"),
      );
      assertIncludes(human.stdout, "stat-udmabuf");
    } finally {
      await Promise.all(holders.map(release));
    }
  },
});

hwTest({
  name:
    "stat --procs: a held buffer is attributed to the holder and to a second process with fd and map refs",
  needs: [needs.systemHeap, needs.bufinfo],
  fn: async () => {
    const holder = await hold(["--heap", "system", "--size", "1M", "--name", "stat-procs"]);
    try {
      const { inode } = holder.ready.buffers[0]!;
      // This test process takes a second fd to the same buffer (pidfd_getfd) and maps it.
      using buffer = new DmaBuf(getFdOf({ pid: holder.ready.pid, fd: holder.ready.fds[0]! }));
      using _mapping = buffer.map({ write: false });
      const doc = await statJson(["--procs", "--name", "stat-procs"]);
      const held = byInode(doc, inode);
      const holders = [...held.holders!].sort((a, b) => a.pid - b.pid);
      assertEquals(
        holders.map((h) => [h.pid, h.fdRefs, h.mapRefs]),
        [[holder.ready.pid, 1, 0], [Deno.pid, 1, 1]].sort((a, b) => a[0]! - b[0]!),
      );
      const mine = doc.processes!.find((p) => p.pid === Deno.pid)!;
      assertEquals([mine.fdRefs, mine.mapRefs, mine.bytes, mine.pss], [1, 1, 1 << 20, 1 << 19]);
      const theirs = doc.processes!.find((p) => p.pid === holder.ready.pid)!;
      assertEquals([theirs.comm, theirs.fdRefs, theirs.mapRefs, theirs.pss], ["deno", 1, 0, 1 << 19]);
      const human = await runCli(["stat", "--procs", "--name", "stat-procs"]);
      assertEquals(human.code, 0, human.stderr);
      assertIncludes(human.stdout, `${holder.ready.pid}:deno(1 fd, 0 map)`);
      assertIncludes(human.stdout, `${Deno.pid}:deno(1 fd, 1 map)`);
      assertIncludes(human.stdout, "PSS");
    } finally {
      await release(holder);
    }
  },
});

hwTest({
  name:
    "stat: a system-heap buffer imported into vgem (PRIME) shows the vgem attachment until the handle closes",
  needs: [needs.systemHeap, needs.vgem, needs.bufinfo],
  fn: async () => {
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(PAGE);
    buffer.setName("stat-vgem");
    using vgem = Vgem.open();
    const arg = DrmPrimeHandleStruct.encode({ handle: 0, flags: 0, fd: buffer.fd });
    vgem.file.ioctl("DRM_IOCTL_PRIME_FD_TO_HANDLE", arg);
    const { handle } = DrmPrimeHandleStruct.decode(arg);
    const attached = byInode(await statJson(["--source", "debugfs"]), buffer.inode());
    assertEquals(attached.attachments, ["vgem"]);
    const human = await runCli(["stat", "--name", "stat-vgem"]);
    assertOk(/stat-vgem\s+\d+\s+vgem\s/.test(human.stdout), human.stdout);
    vgem.closeHandle(handle);
    assertEquals(byInode(await statJson(["--source", "debugfs"]), buffer.inode()).attachments, []);
  },
});

hwTest({
  name: `stat: ${
    kernelHas("sync-file-export-import")
      ? "a sw_sync fence imported as a write fence"
      : "a vgem write fence (no import before 6.0)"
  } shows unsignalled, then signalled${kernelHas("bufinfo-context-seqno") ? ", unnamed" : ""} once signalled`,
  needs: [needs.systemHeap, needs.swSync, needs.vgem, needs.bufinfo],
  fn: async () => {
    // Before 6.0 a sw_sync fence cannot be put on a dma-buf: vgem's own fence stands in (5.10's bufinfo
    // prints it as `Exclusive fence: vgem unbound unsignalled`, without a seqno).
    const imports = kernelHas("sync-file-export-import");
    using heap = DmaHeap.open("system");
    using timeline = SwSyncTimeline.open();
    using vgem = Vgem.open();
    const dumb = imports ? null : vgem.createDumb({ width: 16, height: 16 });
    using buffer = dumb === null ? heap.alloc(PAGE) : vgem.exportDmaBuf(dumb.handle);
    using fence = timeline.createFence(1);
    const vgemFence = dumb === null ? null : vgem.attachFence(dumb.handle, { write: true });
    if (imports) buffer.importSyncFile(fence.fd, "write");
    const [usage, driver, seq] = imports ? ["write", "sw_sync", 1] : ["exclusive", "vgem", null];
    const before = byInode(await statJson(["--source", "debugfs"]), buffer.inode());
    assertEquals(before.fences!.length, 1);
    const pending = before.fences![0]!;
    assertEquals([pending.usage, pending.driver, pending.seq, pending.signalled], [
      usage,
      driver,
      seq,
      false,
    ]);
    assertOk(typeof pending.timeline === "string" && pending.timeline.length > 0);
    const human = await runCli(["stat", "--source", "debugfs", "--sort", "inode"]);
    assertIncludes(human.stdout, `1 ${usage} (1 unsignalled)`);
    if (vgemFence === null) timeline.inc(1);
    else vgem.signalFence(vgemFence);
    const after = byInode(await statJson(["--source", "debugfs"]), buffer.inode());
    // 7.2's bufinfo drops a signalled fence's names (`write fence:<context>:1   signalled`).
    const named = !kernelHas("bufinfo-context-seqno");
    assertEquals(after.fences!.map((f) => [f.usage, f.driver, f.seq, f.signalled]), [[
      usage,
      named ? driver : null,
      seq,
      true,
    ]]);
    if (dumb !== null) vgem.closeHandle(dumb.handle);
  },
});

hwTest({
  name: `stat as uid 65534: auto falls back from debugfs (root only) to ${
    kernelHas("sysfs-stats") ? "sysfs" : "a /proc scan (no sysfs stats on this kernel)"
  } and --source debugfs says root is needed`,
  needs: [needs.systemHeap, needs.bufinfo],
  fn: async () => {
    const asNobody = (args: string[]) =>
      new Deno.Command("setpriv", {
        args: [
          "--reuid",
          "65534",
          "--regid",
          "65534",
          "--clear-groups",
          "sh",
          "-c",
          `dmabuf stat ${args.join(" ")}; dmabuf stat --source debugfs`,
        ],
        stdin: "null",
      }).output();
    const { code, stdout, stderr } = await asNobody(["--json"]);
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 1, err); // the second command's status: debugfs refused
    const doc = JSON.parse(new TextDecoder().decode(stdout));
    assertEquals(doc.source, kernelHas("sysfs-stats") ? "sysfs" : "proc");
    assertIncludes(err, "dmabuf: not using debugfs: reading /sys/kernel/debug/dma_buf/bufinfo needs root");
    if (!kernelHas("sysfs-stats")) {
      assertIncludes(
        err,
        "dmabuf: not using sysfs: /sys/kernel/dmabuf/buffers does not exist (the kernel has no " +
          "CONFIG_DMABUF_SYSFS_STATS (v5.13 to v6.18))",
      );
    }
    assertIncludes(
      err,
      "dmabuf: reading /sys/kernel/debug/dma_buf/bufinfo needs root (EACCES; debugfs is usually mode 0700)",
    );
  },
});
