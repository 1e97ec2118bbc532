/**
 * The real programs of the real-program tier: vivid (V4L2's virtual video test driver) found through sysfs,
 * its devices configured with `v4l2-ctl`, and `gst-launch-1.0` pipelines that export (`io-mode=dmabuf`) and
 * import (`io-mode=dmabuf-import`) its buffers. The kernel's own view (fds, fdinfo, maps, smaps, bufinfo) is
 * read here with small regexes, independently of dmabuf's parsers, so the tests compare dmabuf against it.
 * @module
 */

import type { Need } from "./hw.ts";

/** The capture format every pipeline uses: vivid's HDMI input scaled to 640x360 YUYV. */
export const FRAME = { width: 640, height: 360, fourcc: "YUYV", gstFormat: "YUY2" } as const;
/** vivid's inputs: 0 webcam, 1 TV, 2 S-Video, 3 HDMI. HDMI gives progressive frames the output accepts. */
const HDMI_INPUT = 3;
/** vivid's outputs: 0 S-Video, 1 HDMI. */
const HDMI_OUTPUT = 1;
/**
 * vivid's `colorspace` control: 0 is SMPTE 170M, whose Y'CbCr encoding is ITU-R 601. Choosing HDMI input 3
 * sets its 720p timing's Rec. 709, so the pattern would be BT.709-encoded; this makes it BT.601 again.
 */
const COLORSPACE_SMPTE_170M = 0;
const V4L2_SYSFS = "/sys/class/video4linux";
/** vivid's allocator parameter: per instance, 0 vmalloc, 1 dma-contig (`vivid.allocators=1,1`). */
const ALLOCATORS_PARAM = "/sys/module/vivid/parameters/allocators";
/** How long a pipeline may take to export its buffers (gst-launch starts in about 10 s under TCG). */
const START_TIMEOUT_MS = 90_000;
const POLL_MS = 100;

/** A program on PATH, or undefined. */
export function which(program: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/${program}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The `/dev/videoN` of vivid's first device whose sysfs name ends with `suffix` (`vid-cap`, `vid-out`). */
export function vividNode(suffix: string): string | undefined {
  try {
    const names = [...Deno.readDirSync(V4L2_SYSFS)].map((e) => e.name).filter((n) => /^video\d+$/.test(n));
    names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
    for (const name of names) {
      const label = Deno.readTextFileSync(`${V4L2_SYSFS}/${name}/name`).trim();
      if (/^vivid-\d+-/.test(label) && label.endsWith(suffix)) return `/dev/${name}`;
    }
  } catch {
    // no V4L2 at all
  }
  return undefined;
}

/** The vb2 allocator vivid instance 0 uses, from its module parameter. */
export function vividAllocator(): "vmalloc" | "dma-contig" {
  try {
    const first = Deno.readTextFileSync(ALLOCATORS_PARAM).trim().split(",")[0];
    return first === "1" ? "dma-contig" : "vmalloc";
  } catch {
    return "vmalloc";
  }
}

/** The exporter name bufinfo and fdinfo give vivid's buffers: the vb2 memory module. */
export function vividExporter(): string {
  return vividAllocator() === "dma-contig" ? "videobuf2_dma_contig" : "videobuf2_vmalloc";
}

/** The needs of the tier. */
export const realNeeds = {
  vivid: {
    what: "vivid capture and output devices",
    missing: () => {
      const missing = [["vid-cap", vividNode("vid-cap")], ["vid-out", vividNode("vid-out")]].filter((
        [, node],
      ) => node === undefined);
      return missing.length === 0 ? undefined : `no vivid ${missing.map(([s]) => s).join(" or ")} device`;
    },
  },
  gst: {
    what: "gst-launch-1.0 with the video4linux2 plugin",
    missing: () => {
      if (which("gst-launch-1.0") === undefined) return "no gst-launch-1.0 on PATH";
      if (which("gst-inspect-1.0") === undefined) return "no gst-inspect-1.0 on PATH";
      const ok = new Deno.Command("gst-inspect-1.0", { args: ["v4l2src"], stdout: "null", stderr: "null" })
        .outputSync().success;
      return ok ? undefined : "no GStreamer v4l2src (gstreamer1.0-plugins-good)";
    },
  },
  v4l2ctl: {
    what: "v4l2-ctl",
    missing: () => which("v4l2-ctl") === undefined ? "no v4l2-ctl on PATH (v4l-utils)" : undefined,
  },
} as const satisfies Record<string, Need>;

/** Runs a program to completion; throws with its stderr when it fails. */
export async function runOk(program: string, args: string[]): Promise<string> {
  const result = await new Deno.Command(program, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!result.success) {
    throw new Error(`${program} ${args.join(" ")} failed (${result.code}): ${text(result.stderr)}`);
  }
  return text(result.stdout);
}

/**
 * Chooses vivid's HDMI input (BT.601-encoded) and output and sets the output format, as field-2026.md's
 * pipeline needs.
 */
export async function configureVivid(): Promise<{ capture: string; output: string }> {
  const capture = vividNode("vid-cap")!;
  const output = vividNode("vid-out")!;
  await runOk("v4l2-ctl", ["-d", capture, `--set-input=${HDMI_INPUT}`]);
  await runOk("v4l2-ctl", ["-d", capture, "-c", `colorspace=${COLORSPACE_SMPTE_170M}`]);
  await runOk("v4l2-ctl", ["-d", output, `--set-output=${HDMI_OUTPUT}`]);
  await runOk("v4l2-ctl", [
    "-d",
    output,
    `--set-fmt-video-out=width=${FRAME.width},height=${FRAME.height},pixelformat=${FRAME.fourcc},field=none`,
  ]);
  return { capture, output };
}

/** The pipelines of the tier. */
export type PipelineKind =
  /** `v4l2src io-mode=dmabuf ! caps ! fakesink`: exported buffers, nobody maps them. */
  | "capture"
  /** `v4l2src io-mode=dmabuf ! caps ! v4l2sink io-mode=dmabuf-import`: the output device imports them. */
  | "loop";

/** The gst-launch-1.0 arguments of a pipeline. */
export function pipelineArgs(kind: PipelineKind, devices: { capture: string; output: string }): string[] {
  const caps = `video/x-raw,width=${FRAME.width},height=${FRAME.height},format=${FRAME.gstFormat}`;
  const source = ["v4l2src", `device=${devices.capture}`, "io-mode=dmabuf", "!", caps, "!"];
  switch (kind) {
    case "capture":
      return ["-q", ...source, "fakesink"];
    case "loop":
      return ["-q", ...source, "v4l2sink", `device=${devices.output}`, "io-mode=dmabuf-import"];
  }
}

/** A dma-buf fd of a process as the kernel shows it in /proc/<pid>/fdinfo. */
export interface KernelFd {
  fd: number;
  inode: number;
  size: number;
  /** fdinfo `count` (file_count - 1). */
  count: number;
  exporter: string;
}

function field(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, "m").exec(text)?.[1];
}

/** The dma-buf fds of a process, from /proc/<pid>/fd links (`/dmabuf:`) and fdinfo. */
export function kernelDmabufFds(pid: number): KernelFd[] {
  const fds: KernelFd[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`/proc/${pid}/fd`)];
  } catch {
    return [];
  }
  for (const entry of entries) {
    const fd = Number(entry.name);
    try {
      if (!Deno.readLinkSync(`/proc/${pid}/fd/${fd}`).startsWith("/dmabuf:")) continue;
      const info = Deno.readTextFileSync(`/proc/${pid}/fdinfo/${fd}`);
      // fdinfo has `ino:` from 5.14; before, the inode number is the link target's (stat follows it).
      const ino = field(info, "ino");
      fds.push({
        fd,
        inode: ino === undefined ? Deno.statSync(`/proc/${pid}/fd/${fd}`).ino! : Number(ino),
        size: Number(field(info, "size")),
        count: Number(field(info, "count")),
        exporter: field(info, "exp_name") ?? "",
      });
    } catch {
      // closed meanwhile
    }
  }
  return fds.sort((a, b) => a.fd - b.fd);
}

/** Per dma-buf inode: the mappings of a process (/proc/<pid>/smaps) and their Pss in bytes. */
export function kernelDmabufMaps(pid: number): Map<number, { maps: number; pss: number }> {
  const result = new Map<number, { maps: number; pss: number }>();
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  let current: number | null = null;
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s+(.*)$/.exec(line);
    if (head !== null) {
      current = head[2]!.startsWith("/dmabuf:") ? Number(head[1]) : null;
      if (current !== null) {
        const entry = result.get(current) ?? { maps: 0, pss: 0 };
        entry.maps++;
        result.set(current, entry);
      }
      continue;
    }
    const pss = /^Pss:\s+(\d+) kB$/.exec(line);
    if (pss !== null && current !== null) result.get(current)!.pss += Number(pss[1]) * 1024;
  }
  return result;
}

/** The raw bufinfo text. */
export function readBufinfo(): string {
  return Deno.readTextFileSync("/sys/kernel/debug/dma_buf/bufinfo");
}

/** The block of one inode in bufinfo text: from its `size flags mode count exp_name ino` line to the next. */
export function bufinfoBlock(text: string, inode: number): string | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((line) =>
    new RegExp(`^\\d+\\s+\\S+\\s+\\S+\\s+\\d+\\s+\\S+\\s+0*${inode}\\b`).test(line)
  );
  if (start === -1) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^\d+\s+\S+\s+\S+\s+\d+\s+\S+\s+\d+/.test(line));
  return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

/** A running gst-launch-1.0 pipeline and the dma-bufs it exported. */
export interface Pipeline extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  readonly args: string[];
  /** Its dma-buf fds of vivid's exporter, once streaming. */
  readonly fds: KernelFd[];
  /** Stops it (SIGINT, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Configures vivid, starts a pipeline and waits until it holds `minBuffers` dma-bufs of vivid's exporter
 * and a little longer, so every buffer has been written by the driver at least once.
 * @throws {Error} with gst-launch's output when it exits or exports nothing in time
 */
export async function startPipeline(kind: PipelineKind, minBuffers = 2): Promise<Pipeline> {
  const devices = await configureVivid();
  const args = pipelineArgs(kind, devices);
  const child = new Deno.Command("gst-launch-1.0", { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const exporter = vividExporter();
  const deadline = Date.now() + START_TIMEOUT_MS;
  let fds: KernelFd[] = [];
  while (Date.now() < deadline && !exited) {
    fds = kernelDmabufFds(child.pid).filter((f) => f.exporter === exporter);
    if (fds.length >= minBuffers) break;
    await sleep(POLL_MS);
  }
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill("SIGINT");
      const killer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
      await status;
      clearTimeout(killer);
    }
    await output;
  };
  if (exited || fds.length < minBuffers) {
    await stop();
    const [out, err] = await output;
    throw new Error(
      `gst-launch-1.0 ${args.join(" ")}: ${exited ? "exited" : "exported no buffers in time"}; ` +
        `fds ${JSON.stringify(fds)}; stdout ${out.trim()} stderr ${err.trim()}`,
    );
  }
  // Frames come at the HDMI timing's rate (about 60/s); half a second cycles every buffer more than once.
  await sleep(500);
  fds = kernelDmabufFds(child.pid).filter((f) => f.exporter === exporter);
  return { child, pid: child.pid, args, fds, stop, [Symbol.asyncDispose]: stop };
}
