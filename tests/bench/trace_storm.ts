/**
 * The cost of `dmabuf trace` under a sw_sync fence storm (run as root where sw_sync and tracefs exist, e.g. the
 * test VM):
 *
 * ```sh
 * deno task vm -- deno run -A tests/bench/trace_storm.ts [SECONDS]
 * ```
 *
 * One storm cycle is create fence → `SW_SYNC_IOC_INC` → close, i.e. four events (dma_fence_init,
 * sync_timeline, dma_fence_signaled, dma_fence_destroy). The storm runs in this process for SECONDS (default
 * 5) three times: untraced, while a `dmabuf trace` process records, and untraced again; the tracer is a
 * separate process (`cli/dmabuf trace --json`) so that its CPU time (getrusage, reported in its JSON) is its
 * own. Printed: cycles/s of each run, the traced/untraced ratio (the kernel's tracepoint cost plus CPU competition
 * with the reader), events the reader parsed per second, events the kernel dropped (`[LOST n EVENTS]`), and
 * the reader's CPU time as a share of one CPU and per 1000 events. Not a test: numbers to read.
 */
import { SwSyncTimeline } from "../../ffi/sw_sync.ts";
import { CLI_PATH } from "../run_cli.ts";

const seconds = Number(Deno.args[0] ?? "5");
const EVENTS_PER_CYCLE = 4;

function storm(ms: number): { cycles: number; ms: number } {
  using timeline = SwSyncTimeline.open();
  const start = performance.now();
  let cycles = 0;
  let seqno = 0;
  while (performance.now() - start < ms) {
    // 256 cycles between clock reads keep the loop about the ioctls.
    for (let i = 0; i < 256; i++) {
      seqno++;
      const fence = timeline.createFence(seqno);
      timeline.inc(1);
      fence.close();
    }
    cycles += 256;
  }
  return { cycles, ms: performance.now() - start };
}

function instances(pid: number): boolean {
  for (const root of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) {
    try {
      return [...Deno.readDirSync(`${root}/instances`)].some((e) => e.name.startsWith(`dmabuf-${pid}-`));
    } catch {
      // next
    }
  }
  return false;
}

const rate = (r: { cycles: number; ms: number }) => r.cycles / (r.ms / 1000);
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits });
const out = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

storm(300); // warm-up: JIT and first-use costs out of the measured runs
const before = storm(seconds * 1000);

// cli/dmabuf execs Deno, so the child's pid is the tracer's (and its instance's name).
const tracer = new Deno.Command(CLI_PATH, {
  args: ["trace", "--json"],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();
const limit = performance.now() + 60_000;
while (!instances(tracer.pid) && performance.now() < limit) await new Promise((r) => setTimeout(r, 100));
if (!instances(tracer.pid)) throw new Error("the tracer did not start within 60 s");
await new Promise((r) => setTimeout(r, 500));
const traced = storm(seconds * 1000);
await new Promise((r) => setTimeout(r, 500));
tracer.kill("SIGINT");
const result = await tracer.output();
const decoder = new TextDecoder();
if (result.code !== 0) throw new Error(`tracer exit ${result.code}: ${decoder.decode(result.stderr)}`);
const doc = JSON.parse(decoder.decode(result.stdout));
const after = storm(seconds * 1000);

const untracedRate = (rate(before) + rate(after)) / 2;
const expected = traced.cycles * EVENTS_PER_CYCLE;
out(
  `storm ${seconds} s per run, ${EVENTS_PER_CYCLE} events per cycle (init, sync_timeline, signaled, destroy)`,
);
out(`untraced before    ${fmt(rate(before))} cycles/s`);
out(`traced             ${fmt(rate(traced))} cycles/s  (${fmt(rate(traced) / untracedRate, 2)}x untraced)`);
out(`untraced after     ${fmt(rate(after))} cycles/s`);
out(
  `reader parsed      ${fmt(doc.events)} events of ${fmt(expected)} generated in ${
    fmt(doc.durationMs / 1000, 1)
  } s` +
    ` = ${fmt(doc.events / (doc.durationMs / 1000))} events/s; kernel dropped ${fmt(doc.lost)}`,
);
out(
  `reader CPU         ${fmt(doc.readerCpuMs)} ms = ${
    fmt((100 * doc.readerCpuMs) / doc.durationMs, 1)
  }% of one CPU; ` +
    `${fmt(doc.readerCpuMs / (doc.events / 1000), 2)} ms per 1000 events`,
);
const sw = doc.timelines.filter((t: { driver: string }) => t.driver === "sw_sync");
for (const t of sw) {
  out(
    `timeline ${t.timeline} ctx ${t.context}: fences ${fmt(t.fences)}, signalled ${fmt(t.signalled)}, ` +
      `init→signalled p50 ${t.latencyMs.p50} ms, p99 ${t.latencyMs.p99} ms`,
  );
}
