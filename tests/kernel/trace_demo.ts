/**
 * The "Why is my frame late?" walk-through in README.md, reproducible in the test VM:
 *
 * ```sh
 * deno task vm -- deno run -A tests/kernel/trace_demo.ts
 * ```
 *
 * A stand-in renderer (a sw_sync timeline) finishes frames every ~16 ms, except frame 5, which takes 400 ms;
 * frame 5's fence is also the write fence of a system-heap buffer that a second process maps for reading
 * (`dmabuf sync --start --read`: DMA_BUF_IOCTL_SYNC waits in the kernel), and frame 9 is never finished.
 * `dmabuf trace --events` (cli/dmabuf, which execs Deno: its pid names the instance) records it all.
 */
import { DmaHeap } from "../../ffi/dma_heap.ts";
import { SwSyncTimeline } from "../../ffi/sw_sync.ts";
import { CLI_PATH } from "../run_cli.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const args = Deno.args.length > 0 ? Deno.args : ["--events"];

const tracer = new Deno.Command(CLI_PATH, {
  args: ["trace", ...args],
  stdin: "null",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const started = performance.now();
for (;;) {
  const root = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].find((r) => {
    try {
      return [...Deno.readDirSync(`${r}/instances`)].some((e) => e.name.startsWith(`dmabuf-${tracer.pid}-`));
    } catch {
      return false;
    }
  });
  if (root !== undefined) break;
  if (performance.now() - started > 60_000) throw new Error("the tracer did not start");
  await delay(100);
}
await delay(300);

{
  using heap = DmaHeap.open("system");
  using buffer = heap.alloc(1 << 20);
  using renderer = SwSyncTimeline.open();
  const frames = Array.from({ length: 9 }, (_, i) => renderer.createFence(i + 1));
  buffer.importSyncFile(frames[4]!.fd, "write");
  const reader = new Deno.Command(CLI_PATH, {
    args: ["sync", "--pid", String(Deno.pid), "--fd", String(buffer.fd), "--start", "--read"],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  // The reader needs seconds to start under TCG: wait until it holds the buffer and sleeps in the ioctl.
  for (let blocked = false; !blocked;) {
    await delay(200);
    const stat = Deno.readTextFileSync(`/proc/${reader.pid}/stat`);
    blocked = / S /.test(stat.slice(stat.lastIndexOf(")"))) &&
      [...Deno.readDirSync(`/proc/${reader.pid}/fd`)].some((e) => {
        try {
          return Deno.readLinkSync(`/proc/${reader.pid}/fd/${e.name}`).startsWith("/dmabuf:");
        } catch {
          return false;
        }
      });
  }
  await delay(500);
  for (let frame = 1; frame <= 8; frame++) {
    await delay(frame === 5 ? 400 : 16);
    renderer.inc(1);
  }
  await reader.status;
  await delay(300);
  for (const fence of frames) fence.close();
  // The renderer keeps its timeline open: frame 9 stays unsignalled when the recording ends.
  tracer.kill("SIGINT");
  await tracer.status;
}
