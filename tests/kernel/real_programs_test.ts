/**
 * The real-program tier: unmodified `gst-launch-1.0` and `v4l2-ctl` (Debian's gstreamer1.0-tools,
 * -plugins-base, -plugins-good, v4l-utils) make vivid export and import dma-bufs, and dmabuf's view is
 * checked against the kernel's: /proc/<pid>/fd, fdinfo and smaps and the raw bufinfo text, read by small
 * regexes in vivid.ts (not dmabuf's parsers); vivid's module parameter for the exporter; `v4l2-ctl
 * --get-fmt-video` for the frame layout; the ITU-R BT.601 75% colour bar values for the pixels.
 *
 * The pipelines (vivid.ts), after `v4l2-ctl -d CAP --set-input=3` (HDMI), `v4l2-ctl -d CAP -c colorspace=0`
 * (SMPTE 170M, so the pattern is BT.601-encoded; the HDMI input's 720p timing would make it Rec. 709),
 * `v4l2-ctl -d OUT --set-output=1` and
 * `v4l2-ctl -d OUT --set-fmt-video-out=width=640,height=360,pixelformat=YUYV,field=none`:
 * - capture: `gst-launch-1.0 -q v4l2src device=CAP io-mode=dmabuf
 *   ! video/x-raw,width=640,height=360,format=YUY2 ! fakesink`
 * - loop: the same ending in `! v4l2sink device=OUT io-mode=dmabuf-import`, the output device importing them
 *
 * The exporter depends on how the kernel was booted: `videobuf2_vmalloc` by default, `videobuf2_dma_contig`
 * with `vivid.allocators=1,1` on the command line (run this file a second time in a VM booted with
 * `--append vivid.allocators=1,1`); the tests read which one vivid uses and expect accordingly, so both
 * boots run every test and neither ignores any.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { hwTest, needs } from "./hw.ts";
import { kernelHas } from "./features.ts";
import { runCli } from "../run_cli.ts";
import {
  bufinfoBlock,
  FRAME,
  kernelDmabufFds,
  kernelDmabufMaps,
  readBufinfo,
  realNeeds,
  runOk,
  startPipeline,
  vividAllocator,
  vividExporter,
  vividNode,
} from "./vivid.ts";
import { getFdOf } from "../../ffi/pidfd.ts";
import { DmaBuf } from "../../ffi/dma_buf.ts";
import { pageSize } from "../../ffi/page_size.ts";
import { decodePng } from "../commands/image/png_decode.ts";
import type { StatCompareDocument, StatDocument, StatWatchDocument } from "../../commands/stat/document.ts";

const PAGE = pageSize();
const REAL = [realNeeds.vivid, realNeeds.gst, realNeeds.v4l2ctl, needs.bufinfo];

async function dmabufJson<T>(args: string[]): Promise<T> {
  const { code, stdout, stderr } = await runCli([...args, "--json"]);
  assertEquals(code, 0, `dmabuf ${args.join(" ")}: ${stderr}`);
  return JSON.parse(stdout) as T;
}

/** `v4l2-ctl --get-fmt-video` of the capture device: the kernel's bytesperline and sizeimage. */
async function captureFormat(): Promise<{ stride: number; sizeImage: number; pixelFormat: string }> {
  const text = await runOk("v4l2-ctl", ["-d", vividNode("vid-cap")!, "--get-fmt-video"]);
  const number = (label: string) => Number(new RegExp(`${label}\\s*:\\s*(\\d+)`).exec(text)?.[1]);
  return {
    stride: number("Bytes per Line"),
    sizeImage: number("Size Image"),
    pixelFormat: /Pixel Format\s*:\s*'(\w+)'/.exec(text)?.[1] ?? "",
  };
}

/** Every process holding `inode` by fd or mapping, from /proc (the kernel's view). */
function kernelHolders(inode: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    try {
      const byFd = kernelDmabufFds(pid).some((f) => f.inode === inode);
      if (byFd || kernelDmabufMaps(pid).has(inode)) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Runs `read` between two readings of a buffer's fdinfo count; both readings, to bracket the value seen. */
async function countBracket<T>(pid: number, inode: number, read: () => Promise<T>): Promise<[T, number[]]> {
  const count = () => kernelDmabufFds(pid).find((f) => f.inode === inode)?.count ?? -1;
  const before = count();
  const value = await read();
  return [value, [before, count()]];
}

hwTest({
  name:
    `gst v4l2src io-mode=dmabuf: exporter, size, count and holders' fd/map refs and PSS in the stat sources ` +
    `(${
      kernelHas("sysfs-stats") ? "debugfs, sysfs, proc" : "debugfs, proc: no sysfs stats on this kernel"
    }) ` +
    "and info --pid",
  needs: REAL,
  fn: async () => {
    await using pipeline = await startPipeline("capture");
    const exporter = vividExporter();
    const format = await captureFormat();
    assertEquals(format.pixelFormat, FRAME.fourcc);
    const kernel = pipeline.fds;
    assertOk(kernel.length >= 2, `gst holds ${kernel.length} ${exporter} buffers`);
    for (const fd of kernel) assertEquals(fd.size, Math.ceil(format.sizeImage / PAGE) * PAGE);
    // This process takes the first buffer too and maps it: a second holder, with a map ref, sharing its PSS.
    using shared = new DmaBuf(getFdOf({ pid: pipeline.pid, fd: kernel[0]!.fd }));
    using mapping = shared.map();
    assertEquals(mapping.length, kernel[0]!.size);

    for (const source of kernelHas("sysfs-stats") ? ["debugfs", "sysfs", "proc"] : ["debugfs", "proc"]) {
      const [doc, counts] = await countBracket(
        pipeline.pid,
        kernel[0]!.inode,
        () => dmabufJson<StatDocument>(["stat", "--source", source, "--procs", "--exporter", exporter]),
      );
      assertEquals(doc.source, source);
      for (const want of kernel) {
        const got = doc.buffers.find((b) => b.inode === want.inode);
        assertOk(got !== undefined, `${source}: inode ${want.inode} missing`);
        assertEquals([got.size, got.exporter], [want.size, exporter], `${source} inode ${want.inode}`);
        // sysfs has no count; debugfs and fdinfo print the same quantity (see stat --help).
        if (source !== "sysfs" && want.inode === kernel[0]!.inode) {
          assertOk(counts.includes(got.count!), `${source} count ${got.count}, kernel said ${counts}`);
        }
        // The kernel's holders of this buffer: every process with an fd or a mapping of it.
        const holders = kernelHolders(want.inode);
        assertEquals(
          got.holders?.map((h) => h.pid).sort(),
          holders.sort(),
          `${source} holders of ${want.inode}`,
        );
        for (const holder of got.holders!) {
          const fdRefs = kernelDmabufFds(holder.pid).filter((f) => f.inode === want.inode).length;
          const mapRefs = kernelDmabufMaps(holder.pid).get(want.inode)?.maps ?? 0;
          assertEquals(
            [holder.fdRefs, holder.mapRefs],
            [fdRefs, mapRefs],
            `${source} ${holder.pid}/${want.inode}`,
          );
        }
      }
      const first = doc.buffers.find((b) => b.inode === kernel[0]!.inode)!;
      assertEquals(first.holders!.find((h) => h.pid === Deno.pid), {
        pid: Deno.pid,
        comm: "deno",
        fdRefs: 1,
        mapRefs: 1,
      });
      // PSS: each buffer's size split evenly between the processes that hold it (dmabuf_dump's rule).
      const gst = doc.processes?.find((p) => p.pid === pipeline.pid);
      assertOk(gst !== undefined, `${source}: no process entry for gst`);
      const bytes = kernel.reduce((n, f) => n + f.size, 0);
      const pss = kernel.reduce((n, f) => n + Math.floor(f.size / kernelHolders(f.inode).length), 0);
      assertEquals(
        [gst.comm, gst.fdRefs, gst.mapRefs, gst.bytes, gst.pss],
        ["gst-launch-1.0", kernel.length, 0, bytes, pss],
      );
      const self = doc.processes?.find((p) => p.pid === Deno.pid);
      assertEquals([self?.fdRefs, self?.mapRefs, self?.pss], [1, 1, kernel[0]!.size / 2]);
    }

    const info = await dmabufJson<{
      pid: number;
      comm: string;
      fds: { fd: number; inode: number; size: number; exporter: string }[];
      maps: { inode: number }[];
    }>(["info", "--pid", String(pipeline.pid)]);
    assertEquals(info.comm, "gst-launch-1.0");
    assertEquals(
      info.fds.filter((f) => f.exporter === exporter).map((f) => [f.fd, f.inode, f.size]),
      kernel.map((f) => [f.fd, f.inode, f.size]),
    );
    assertEquals(info.maps, []);
    const mine = await dmabufJson<{ maps: { inode: number }[] }>(["info", "--pid", String(Deno.pid)]);
    assertEquals(mine.maps.filter((m) => m.inode === kernel[0]!.inode).length, 1);
  },
});

/** The devices bufinfo lists under "Attached Devices:" for an inode, and its "Total N devices attached". */
function kernelAttachments(bufinfo: string, inode: number): { devices: string[]; total: number } {
  const block = bufinfoBlock(bufinfo, inode);
  assertOk(block !== undefined, `inode ${inode} not in bufinfo`);
  const section = /Attached Devices:\n([\s\S]*?)Total (\d+) devices attached/.exec(block);
  assertOk(section !== null, `no attachment section for ${inode}:\n${block}`);
  const devices = section[1]!.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return { devices, total: Number(section[2]) };
}

hwTest({
  name: "v4l2sink io-mode=dmabuf-import: the output device attaches to the capture's buffers with " +
    "videobuf2_dma_contig, and with videobuf2_vmalloc (no dma_buf_attach) no attachment is invented",
  needs: REAL,
  fn: async () => {
    await using pipeline = await startPipeline("loop");
    const contig = vividAllocator() === "dma-contig";
    const inodes = pipeline.fds.map((f) => f.inode);
    // The kernel attaches a buffer when it is queued on the output device in place of another, and detaches
    // the one it replaces: with dma-contig the attachments move at the frame rate. So dmabuf's reading of a
    // bufinfo snapshot is compared line for line with that snapshot, and live runs only show vivid.0 at all.
    const snapshot = readBufinfo();
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/bufinfo`, snapshot);
      const parsed = await dmabufJson<StatDocument>(["stat", "--input", `${dir}/bufinfo`]);
      for (const inode of inodes) {
        const kernel = kernelAttachments(snapshot, inode);
        const got = parsed.buffers.find((b) => b.inode === inode)?.attachments;
        assertEquals(got, kernel.devices, `attachments of ${inode} in the snapshot`);
        assertEquals(kernel.devices.length, kernel.total);
        if (!contig) assertEquals(kernel, { devices: [], total: 0 }, `vmalloc import of ${inode} attached`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    let seen = false;
    for (let attempt = 0; attempt < 5 && !(contig && seen); attempt++) {
      const doc = await dmabufJson<StatDocument>(["stat", "--source", "debugfs"]);
      const human = await runCli(["stat", "--source", "debugfs", "--color", "never"]);
      assertEquals(human.code, 0, human.stderr);
      const lists = inodes.map((inode) => doc.buffers.find((b) => b.inode === inode)!.attachments!);
      for (const list of lists) assertEquals(list, contig && list.length > 0 ? ["vivid.0"] : []);
      const humanShows = /videobuf2_dma_contig\s+<none>\s+\d+\s+vivid\.0/.test(human.stdout);
      if (!contig) assertOk(!human.stdout.includes("vivid.0"), human.stdout);
      seen ||= lists.some((list) => list.length > 0) && humanShows;
    }
    // vivid's output device (vivid.0) holds at least one of the capture's buffers at any time.
    if (contig) assertOk(seen, "no live stat showed vivid.0 attached (JSON and human) in 5 tries");
  },
});

/** ITU-R BT.601 limited-range Y'CbCr of the 75% colour bars, left to right. */
const BARS_YCBCR = [
  ["grey", 180, 128, 128],
  ["yellow", 162, 44, 142],
  ["cyan", 131, 156, 44],
  ["green", 112, 72, 58],
  ["magenta", 84, 184, 198],
  ["red", 65, 100, 212],
  ["blue", 35, 212, 114],
  ["black", 16, 128, 128],
] as const;
/**
 * vivid converts its colours itself (SMPTE 170M primaries, Rec. 709 transfer): on 6.1 its yellow is Y' 160
 * against the table's 162, and every other code within 1. A code may differ by this much from the table.
 */
const CODE_TOLERANCE = 3;
/** A row below vivid's OSD text (several lines on black, top-left, to about row 100 at 640x360). */
const SAMPLE_ROW = 270;

/** The x of the centre of bar `i` (eight equal bars across the width), on an even pixel. */
function barCentre(i: number): number {
  return 2 * Math.floor(((i + 0.5) * FRAME.width) / 8 / 2);
}

hwTest({
  name:
    "map --pid --fd --read on a streaming vivid buffer returns the 75% colour bars (YUYV, BT.601 limited)",
  needs: REAL,
  fn: async () => {
    await using pipeline = await startPipeline("capture");
    const { stride } = await captureFormat();
    const fd = pipeline.fds[0]!.fd;
    for (const [name, y, cb, cr] of BARS_YCBCR) {
      const x = barCentre(BARS_YCBCR.findIndex(([n]) => n === name));
      const offset = SAMPLE_ROW * stride + 2 * x;
      const read = await dmabufJson<{ hex: string; synced: boolean }>(
        [
          "map",
          "--pid",
          String(pipeline.pid),
          "--fd",
          String(fd),
          "--read",
          "--offset",
          String(offset),
          "--length",
          "4",
        ],
      );
      assertEquals(read.synced, true);
      const [y0, u, y1, v] = read.hex.match(/../g)!.map((h) => parseInt(h, 16));
      const close = (got: number, want: number) => Math.abs(got - want) <= CODE_TOLERANCE;
      assertOk(
        close(y0!, y) && close(y1!, y) && close(u!, cb) && close(v!, cr),
        `${name} bar at x=${x}: got Y0 ${y0} Cb ${u} Y1 ${y1} Cr ${v}, want ${y} ${cb} ${y} ${cr}`,
      );
    }
  },
});

hwTest({
  name: "fence-wait --dmabuf and sync --start/--end on a buffer vivid is writing",
  needs: REAL,
  fn: async () => {
    await using pipeline = await startPipeline("capture");
    const select = ["--pid", String(pipeline.pid), "--fd", String(pipeline.fds[0]!.fd)];
    for (const access of ["--read", "--write"]) {
      // vb2 attaches no implicit fences to its dma_resv: the buffer is idle to a waiter.
      const wait = await dmabufJson<{ result: string; target: { kind: string; inode: number } }>(
        ["fence-wait", "--dmabuf", ...select, access, "--timeout", "5s"],
      );
      assertEquals(wait.result, "signalled");
      assertEquals(wait.target.inode, pipeline.fds[0]!.inode);
    }
    // include/uapi/linux/dma-buf.h: START 0, END 4; READ 1, WRITE 2, RW 3.
    const cases: [string[], number[]][] = [
      [["--start", "--read"], [1]],
      [["--end", "--read"], [4 | 1]],
      [["--start", "--rw"], [3]],
      [["--end", "--rw"], [4 | 3]],
      [["--bracket", "--read"], [1, 4 | 1]],
    ];
    for (const [args, flags] of cases) {
      const sync = await dmabufJson<{ steps: { flags: number }[] }>(["sync", ...select, ...args]);
      assertEquals(sync.steps.map((s) => s.flags), flags, args.join(" "));
    }
  },
});

/** Reads concatenated 2-space-indented JSON documents from a stream as they arrive. */
async function* jsonDocuments(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    for (let end = text.indexOf("\n}\n"); end !== -1; end = text.indexOf("\n}\n")) {
      yield JSON.parse(text.slice(0, end + 2));
      text = text.slice(end + 3);
    }
  }
}

hwTest({
  name: "stat --watch sees a pipeline's buffers appear (+) and vanish (-)",
  needs: REAL,
  fn: async () => {
    const exporter = vividExporter();
    const watch = new Deno.Command("dmabuf", {
      args: ["stat", "--watch", "300ms", "--exporter", exporter, "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(watch.stderr).text();
    let phase: "before" | "streaming" | "stopped" = "before";
    let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
    let inodes: number[] = [];
    const seen = { added: [] as number[], freed: [] as number[] };
    const timeout = setTimeout(() => watch.kill("SIGKILL"), 60_000);
    try {
      for await (const raw of jsonDocuments(watch.stdout)) {
        const doc = raw as StatWatchDocument;
        if (phase === "before") {
          assertEquals(doc.buffers, [], "vivid buffers exist before the pipeline starts");
          pipeline = await startPipeline("capture");
          inodes = pipeline.fds.map((f) => f.inode);
          phase = "streaming";
        } else if (phase === "streaming") {
          seen.added.push(...doc.added.filter((i) => inodes.includes(i)));
          if (inodes.every((i) => seen.added.includes(i))) {
            await pipeline!.stop();
            phase = "stopped";
          }
        } else {
          seen.freed.push(...doc.freed.filter((i) => inodes.includes(i)));
          if (inodes.every((i) => seen.freed.includes(i))) break;
        }
      }
      watch.kill("SIGINT");
      assertEquals((await watch.status).code, 0, await stderr);
    } finally {
      clearTimeout(timeout);
      await pipeline?.stop();
    }
    assertEquals([...new Set(seen.added)].sort(), [...inodes].sort());
    assertEquals([...new Set(seen.freed)].sort(), [...inodes].sort());
  },
});

hwTest({
  name: "stat --compare: a pipeline's buffers are added against a snapshot before it and freed after it",
  needs: REAL,
  fn: async () => {
    const exporter = vividExporter();
    const dir = await Deno.makeTempDir();
    try {
      const before = await runCli(["stat", "--json", "--exporter", exporter]);
      await Deno.writeTextFile(`${dir}/before.json`, before.stdout);
      let inodes: number[];
      {
        await using pipeline = await startPipeline("capture");
        inodes = pipeline.fds.map((f) => f.inode).sort();
        const during = await runCli(["stat", "--json"]);
        await Deno.writeTextFile(`${dir}/during.json`, during.stdout);
        const added = await dmabufJson<StatCompareDocument>(
          ["stat", "--compare", `${dir}/before.json`, "--exporter", exporter],
        );
        assertEquals(added.added.map((b) => b.inode).sort(), inodes);
        assertEquals(added.freed, []);
      }
      const freed = await dmabufJson<StatCompareDocument>(
        ["stat", "--compare", `${dir}/during.json`, "--exporter", exporter],
      );
      assertEquals(freed.freed.map((b) => b.inode).sort(), inodes);
      assertEquals(freed.added, []);
      const human = await runCli(["stat", "--compare", `${dir}/during.json`, "--exporter", exporter]);
      assertMatch(human.stdout, new RegExp(`${inodes[0]}`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** RGB of the 75% bars after BT.601 limited-range conversion of the table's codes (image_test.ts). */
const BARS_RGB: Record<string, [number, number, number]> = {
  grey: [191, 191, 191],
  yellow: [192, 192, 1],
  cyan: [0, 191, 190],
  green: [0, 191, 0],
  magenta: [191, 0, 192],
  red: [191, 0, 1],
  blue: [0, 1, 192],
  black: [0, 0, 0],
};
/** vivid's codes are off by up to CODE_TOLERANCE; one code moves a channel by up to 2.3 levels. */
const RGB_TOLERANCE = 8;

hwTest({
  name: "map --pid --fd --image on a live vivid frame writes a PNG of the colour bars (SYNC READ bracket)",
  needs: REAL,
  fn: async () => {
    await using pipeline = await startPipeline("capture");
    const { stride } = await captureFormat();
    const dir = await Deno.makeTempDir({ prefix: "dmabuf-frame-" });
    try {
      const path = `${dir}/frame.png`;
      const report = await dmabufJson<{ path: string; stride: number; bytesRead: number; fourcc: string }>([
        "map",
        "--pid",
        String(pipeline.pid),
        "--fd",
        String(pipeline.fds[0]!.fd),
        "--image",
        path,
        "--fourcc",
        "YUY2",
        "--width",
        String(FRAME.width),
        "--height",
        String(FRAME.height),
      ]);
      assertEquals([report.path, report.fourcc, report.bytesRead, report.stride], [
        path,
        FRAME.fourcc,
        stride * FRAME.height,
        stride,
      ]);
      const png = await Deno.readFile(path);
      const decoded = decodePng(png);
      assertEquals([decoded.width, decoded.height], [FRAME.width, FRAME.height]);
      // Bar centres on rows across the lower three quarters (the OSD text is in the top-left corner).
      for (const row of [FRAME.height / 2, SAMPLE_ROW, FRAME.height - 10]) {
        BARS_YCBCR.forEach(([name], i) => {
          const x = barCentre(i);
          const at = (row * FRAME.width + x) * 4;
          const got = Array.from(decoded.rgba.subarray(at, at + 3));
          const want = BARS_RGB[name]!;
          assertOk(
            got.every((c, k) => Math.abs(c - want[k]!) <= RGB_TOLERANCE),
            `${name} bar at (${x}, ${row}): got ${got}, want ${want}`,
          );
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
