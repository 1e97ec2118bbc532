/**
 * `dmabuf stat --source bpf` against the kernel's own truth, on every x86_64 tier. On a kernel with the BPF
 * iterator `iter/dmabuf` (6.16+; the 7.2 tier, with BTF) it must list exactly the buffers bufinfo lists at the
 * same moment — from the system and CMA heaps, udmabuf, vgem, buffers only the kernel still holds (a heap
 * buffer vgem imported and a vgem export, both with every fd closed), and vivid's buffers while a capture
 * loop streams — with the same inode, size, exporter, name, count, flags, mode and attached devices; and with
 * debugfs unmounted, `stat` (auto) must find them all through it. On older kernels the bpf source must refuse
 * in one line naming what is missing and the version.
 *
 * "The same moment": bufinfo is read before and after the iterator, and the comparison counts only when the
 * two bufinfo readings agree (nothing changed in between); it is retried a few times otherwise.
 */
import { assertEquals, assertIncludes, assertOk } from "../assert.ts";
import { hwTest, needs } from "./hw.ts";
import { realNeeds, startPipeline, vividExporter } from "./vivid.ts";
import { CLI_PATH, runCli } from "../run_cli.ts";
import { DmaHeap, resolveHeapName } from "../../ffi/dma_heap.ts";
import { allocUdmabuf } from "../../ffi/udmabuf.ts";
import { pageSize } from "../../ffi/page_size.ts";
import { Vgem } from "../../ffi/vgem.ts";
import { DrmPrimeHandleStruct } from "../../ffi/structs.ts";
import type { DmaBuf } from "../../ffi/dma_buf.ts";
import type { StatBuffer } from "../../commands/stat/snapshot.ts";

const PAGE = pageSize();
/** The first release with iter/dmabuf. */
const ITER_SINCE: readonly [number, number] = [6, 16];
/** The attached devices the program lists per buffer (MAX_ATTACHMENTS in ffi/bpf/dmabuf_iter.ts). */
const MAX_ATTACHED = 16;
/** How often a comparison is retried when bufinfo changed while the iterator ran. */
const ATTEMPTS = 5;
/** Where the VM (and most systems) mount debugfs. */
const DEBUGFS = "/sys/kernel/debug";

/** Whether the running kernel is 6.16 or later (the tiers: 5.10, 6.1, 6.12 before; 7.2 after). */
function hasIterator(): boolean {
  const [major = 0, minor = 0] = Deno.osRelease().split(/[.-]/).map(Number);
  return major > ITER_SINCE[0] || (major === ITER_SINCE[0] && minor >= ITER_SINCE[1]);
}

/** What stat --json says of one buffer, without fences (the iterator does not read them). */
type Row = Omit<StatBuffer, "fences" | "nameKnown">;

interface StatDoc {
  source: string;
  buffers: StatBuffer[];
}

async function statJson(args: string[]): Promise<{ doc: StatDoc; stderr: string }> {
  const { code, stdout, stderr } = await runCli(["stat", "--json", "--sort", "inode", ...args]);
  assertEquals(code, 0, stderr);
  return { doc: JSON.parse(stdout), stderr };
}

function rows(doc: StatDoc, fields: readonly (keyof Row)[]): Record<string, unknown>[] {
  return doc.buffers.map((b) => Object.fromEntries(fields.map((f) => [f, b[f]])));
}

const ALL_FIELDS = ["inode", "size", "exporter", "name", "count", "flags", "mode", "attachments"] as const;

/**
 * bufinfo (`stat --source debugfs`), then `args`, then bufinfo again, until both bufinfo readings agree on
 * `fields`; returns that bufinfo reading and the other.
 */
async function sameMoment(
  args: string[],
  fields: readonly (keyof Row)[],
): Promise<{ bufinfo: Record<string, unknown>[]; other: StatDoc; stderr: string }> {
  for (let attempt = 1;; attempt++) {
    const before = rows((await statJson(["--source", "debugfs"])).doc, fields);
    const { doc, stderr } = await statJson(args);
    const after = rows((await statJson(["--source", "debugfs"])).doc, fields);
    if (JSON.stringify(before) === JSON.stringify(after)) return { bufinfo: before, other: doc, stderr };
    if (attempt === ATTEMPTS) throw new Error(`bufinfo changed during each of ${ATTEMPTS} readings`);
  }
}

/** The refusal on a kernel without the iterator: one line, what is missing, the version. */
async function assertRefusal(args: string[]): Promise<void> {
  const { code, stdout, stderr } = await runCli(["stat", ...args]);
  assertEquals(code, 1, stderr);
  assertEquals(stdout, "");
  assertEquals(stderr.split("\n").filter((line) => line !== "").length, 1, stderr);
  assertOk(stderr.startsWith("dmabuf: this kernel has no "), stderr);
  assertIncludes(stderr, `(iter/dmabuf needs Linux 6.16+; this kernel is ${Deno.osRelease()})`);
}

/** Buffers of every kind the tier has, some of them held only by the kernel; closed by dispose. */
interface Fixture extends Disposable {
  /** Inodes and names of the buffers only the kernel holds. */
  kernelOnly: { inode: number; name: string }[];
  /** Inodes of all the buffers made here. */
  inodes: number[];
}

function makeBuffers(): Fixture {
  const owned: Disposable[] = [];
  const keep = <T extends Disposable>(resource: T): T => {
    owned.push(resource);
    return resource;
  };
  try {
    const system = keep(DmaHeap.open("system"));
    const cma = keep(DmaHeap.open(resolveHeapName("cma")));
    const named = (buffer: DmaBuf, name: string | null) => {
      if (name !== null) buffer.setName(name);
      return keep(buffer);
    };
    const held = [
      named(system.alloc(5000), "bpf system heap"), // a space in the name
      named(system.alloc(PAGE), null), // unnamed
      named(cma.alloc(64 * 1024), "bpf-cma"),
      named(allocUdmabuf(3 * PAGE, "bpf"), "bpf-udmabuf"),
      named(system.alloc(31 * PAGE), "n".repeat(31)), // the longest name the kernel keeps
    ];
    const vgem = keep(Vgem.open());
    // Imported into vgem and kept open too: attached to vgem, held by this process and by vgem.
    const attached = named(system.alloc(2 * PAGE), "bpf-attached");
    const importArg = DrmPrimeHandleStruct.encode({ handle: 0, flags: 0, fd: attached.fd });
    vgem.file.ioctl("DRM_IOCTL_PRIME_FD_TO_HANDLE", importArg);
    // Imported into vgem, then every fd closed: only vgem's GEM object holds it.
    const imported = system.alloc(4 * PAGE);
    imported.setName("bpf-kernel-import");
    const importedInode = imported.inode();
    vgem.file.ioctl(
      "DRM_IOCTL_PRIME_FD_TO_HANDLE",
      DrmPrimeHandleStruct.encode({ handle: 0, flags: 0, fd: imported.fd }),
    );
    imported.close();
    // Exported by vgem, then the fd closed: only the GEM handle's PRIME cache holds it.
    const dumb = vgem.createDumb({ width: 64, height: 64 });
    const exported = vgem.exportDmaBuf(dumb.handle);
    exported.setName("bpf-kernel-export");
    const exportedInode = exported.inode();
    exported.close();
    return {
      kernelOnly: [
        { inode: importedInode, name: "bpf-kernel-import" },
        { inode: exportedInode, name: "bpf-kernel-export" },
      ],
      inodes: [...held, attached].map((b) => b.inode()).concat(importedInode, exportedInode),
      [Symbol.dispose]: () => {
        for (const resource of owned.reverse()) resource[Symbol.dispose]();
      },
    };
  } catch (error) {
    for (const resource of owned.reverse()) resource[Symbol.dispose]();
    throw error;
  }
}

const BUFFERS = [needs.systemHeap, needs.cmaHeap, needs.udmabuf, needs.vgem, needs.bufinfo];

hwTest({
  name: "stat --source bpf lists what bufinfo lists at the same moment (heaps, udmabuf, vgem, kernel-only " +
    "buffers; every field but fences) on 6.16+, and refuses with the version before",
  needs: BUFFERS,
  fn: async () => {
    using buffers = makeBuffers();
    if (!hasIterator()) {
      await assertRefusal(["--source", "bpf"]);
      await assertRefusal(["--source", "bpf", "--json"]);
      return;
    }
    const { bufinfo, other, stderr } = await sameMoment(["--source", "bpf"], ALL_FIELDS);
    assertEquals(other.source, "bpf");
    assertEquals(stderr, "");
    assertEquals(rows(other, ALL_FIELDS), bufinfo);
    for (const buffer of other.buffers) assertEquals(buffer.fences, null);
    const inodes = new Set(other.buffers.map((b) => b.inode));
    for (const inode of buffers.inodes) assertOk(inodes.has(inode), `inode ${inode} missing from bpf`);
    // The kernel-only buffers: listed by bufinfo and bpf, held by no process (the /proc scan cannot see them).
    const proc = new Set((await statJson(["--source", "proc"])).doc.buffers.map((b) => b.inode));
    for (const { inode, name } of buffers.kernelOnly) {
      assertOk(!proc.has(inode), `inode ${inode} is held by a process`);
      // Its count is vgem's references (bufinfo's and bpf's are compared above), none of them an fd.
      const row = other.buffers.find((b) => b.inode === inode)!;
      assertEquals(row.name, name);
      assertOk(row.count !== null && row.count >= 1, `count ${row.count}`);
    }
    assertEquals(other.buffers.find((b) => b.name === "bpf-attached")?.attachments, ["vgem"]);
    // --watch re-runs the iterator each refresh.
    const watch = await runCli([
      "stat",
      "--source",
      "bpf",
      "--watch",
      "100ms",
      "--iterations",
      "2",
      "--json",
    ]);
    assertEquals(watch.code, 0, watch.stderr);
    assertEquals(watch.stdout.split("\n}\n").filter((d) => d.includes('"source": "bpf"')).length, 2);
  },
});

hwTest({
  name:
    "stat --source bpf: 16 attached devices are listed as bufinfo lists them, a 17th makes the list null " +
    "(the program's bound) on 6.16+",
  needs: [needs.systemHeap, needs.vgem, needs.bufinfo],
  fn: async () => {
    if (!hasIterator()) return await assertRefusal(["--source", "bpf"]);
    using heap = DmaHeap.open("system");
    using buffer = heap.alloc(PAGE);
    buffer.setName("bpf-many-attached");
    // Each open of vgem imports the buffer anew: one attachment per open.
    const devices: Vgem[] = [];
    try {
      const attachments = async (source: string) =>
        (await statJson(["--source", source, "--name", "bpf-many-attached"])).doc.buffers[0]?.attachments;
      for (let i = 1; i <= MAX_ATTACHED + 1; i++) {
        const vgem = Vgem.open();
        devices.push(vgem);
        vgem.file.ioctl(
          "DRM_IOCTL_PRIME_FD_TO_HANDLE",
          DrmPrimeHandleStruct.encode({ handle: 0, flags: 0, fd: buffer.fd }),
        );
        if (i < MAX_ATTACHED) continue;
        const listed = await attachments("debugfs");
        assertEquals(listed, Array(i).fill("vgem"));
        assertEquals(await attachments("bpf"), i === MAX_ATTACHED ? listed : null, `${i} attachments`);
      }
    } finally {
      for (const vgem of devices) vgem[Symbol.dispose]();
    }
  },
});

hwTest({
  name:
    "stat (auto) with debugfs unmounted finds every buffer bufinfo listed through the BPF iterator on 6.16+," +
    " and says why bpf was not used before",
  needs: BUFFERS,
  fn: async () => {
    using buffers = makeBuffers();
    const bufinfo = rows((await statJson(["--source", "debugfs"])).doc, ALL_FIELDS);
    const umount = await new Deno.Command("umount", { args: [DEBUGFS] }).output();
    assertEquals(umount.code, 0, new TextDecoder().decode(umount.stderr));
    try {
      const { doc, stderr } = await statJson([]);
      assertIncludes(stderr, "dmabuf: not using debugfs: debugfs is not mounted");
      if (!hasIterator()) {
        assertOk(doc.source !== "bpf");
        assertIncludes(stderr, `dmabuf: not using bpf: this kernel has no `);
        assertIncludes(stderr, `(iter/dmabuf needs Linux 6.16+; this kernel is ${Deno.osRelease()})`);
        return;
      }
      assertEquals(doc.source, "bpf");
      assertEquals(rows(doc, ALL_FIELDS), bufinfo);
      for (const inode of buffers.inodes) {
        assertOk(doc.buffers.some((b) => b.inode === inode), `${inode} missing`);
      }
    } finally {
      const mount = await new Deno.Command("mount", { args: ["-t", "debugfs", "debugfs", DEBUGFS] }).output();
      assertEquals(mount.code, 0, new TextDecoder().decode(mount.stderr));
    }
  },
});

hwTest({
  name:
    "stat --source bpf while vivid streams a capture loop: the same inodes, sizes, exporters and names as " +
    "bufinfo on 6.16+, the refusal with the version before",
  needs: [realNeeds.vivid, realNeeds.gst, realNeeds.v4l2ctl, needs.bufinfo],
  fn: async () => {
    await using pipeline = await startPipeline("loop");
    if (!hasIterator()) {
      await assertRefusal(["--source", "bpf"]);
      return;
    }
    const fields = ["inode", "size", "exporter", "name"] as const;
    const { bufinfo, other } = await sameMoment(["--source", "bpf"], fields);
    assertEquals(rows(other, fields), bufinfo);
    const exporter = vividExporter();
    for (const fd of pipeline.fds) {
      const row = other.buffers.find((b) => b.inode === fd.inode);
      assertEquals([row?.size, row?.exporter], [fd.size, exporter], `inode ${fd.inode}`);
    }
  },
});

hwTest({
  name:
    "stat --source bpf as uid 65534: one line naming CAP_BPF and CAP_PERFMON on 6.16+, the version before",
  needs: [{ what: "root (to drop to uid 65534)", missing: () => Deno.uid() === 0 ? undefined : "not root" }],
  fn: async () => {
    const { code, stderr } = await new Deno.Command("setpriv", {
      args: ["--reuid", "65534", "--regid", "65534", "--clear-groups", CLI_PATH, "stat", "--source", "bpf"],
      stdin: "null",
      stdout: "null",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 1, err);
    assertEquals(err.split("\n").filter((line) => line !== "").length, 1, err);
    if (hasIterator()) {
      assertIncludes(err, "dmabuf: loading a BPF program needs CAP_BPF and CAP_PERFMON (EPERM;");
    } else {
      assertIncludes(err, `(iter/dmabuf needs Linux 6.16+; this kernel is ${Deno.osRelease()})`);
    }
  },
});
