/**
 * `dmabuf trace` on a real kernel (the test VM): latencies of sw_sync fences signalled after known delays, a
 * DMA_BUF_IOCTL_SYNC START blocked on an imported write fence as a kernel wait by the syncing pid, global
 * tracing state untouched (also after SIGINT and SIGTERM of a trace process), the unprivileged failure, and
 * deadlines (set and read back on 6.8+, ENOTTY named as "needs 6.8" before).
 *
 * The command body runs in-process; `cli/dmabuf trace` is spawned only for signals, exit codes and another
 * uid. If tracefs is not mounted the tests mount it at
 * /sys/kernel/tracing themselves in the VM (`DMABUF_REQUIRE_HW=1`), never on another machine.
 */
import assert from "node:assert/strict";
import { trace, type TraceContext, type TraceFlags, type TraceResult } from "../../commands/trace/mod.ts";
import type { TimelineSummary } from "../../commands/trace/model.ts";
import { DmaHeap } from "../../ffi/dma_heap.ts";
import {
  DeadlineUnsupportedError,
  getSwSyncDeadline,
  monotonicNowNs,
  setDeadline,
} from "../../ffi/deadline.ts";
import { SwSyncTimeline } from "../../ffi/sw_sync.ts";
import { Vgem } from "../../ffi/vgem.ts";
import { kernelHas } from "./features.ts";
import { CLI_PATH } from "../run_cli.ts";
import { exists, hwRequired, hwTest, type Need, needs } from "./hw.ts";

const TRACEFS = "/sys/kernel/tracing";
/** How long a spawned Deno process gets to start (3–4 s each under TCG). */
const START_LIMIT_MS = 60_000;
/** Slack over a known delay: timers in a busy TCG guest fire late. */
const LATE_MS = 1500;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * tracefs with the dma_fence events; in the test VM (`DMABUF_REQUIRE_HW=1`) mounted at /sys/kernel/tracing
 * when nothing is mounted yet. Never on another machine: the need is checked when the module loads, also where
 * the tests are then ignored, and a test run must not leave the host's mounts changed.
 */
const tracefs: Need = {
  what: "tracefs with dma_fence events",
  missing: () => {
    if (
      hwRequired() && !exists(`${TRACEFS}/instances`) && !exists("/sys/kernel/debug/tracing/instances") &&
      exists(TRACEFS)
    ) {
      new Deno.Command("mount", { args: ["-t", "tracefs", "nodev", TRACEFS] }).outputSync();
    }
    for (const root of [TRACEFS, "/sys/kernel/debug/tracing"]) {
      if (exists(`${root}/events/dma_fence`)) return undefined;
    }
    return "no tracefs with events/dma_fence";
  },
};

function tracefsRoot(): string {
  return exists(`${TRACEFS}/instances`) ? TRACEFS : "/sys/kernel/debug/tracing";
}

/** What global tracing looks like: must be the same before and after any trace run. */
function tracingState(): Record<string, string> {
  const root = tracefsRoot();
  const read = (name: string) => Deno.readTextFileSync(`${root}/${name}`);
  return {
    tracing_on: read("tracing_on"),
    set_event: read("set_event"),
    current_tracer: read("current_tracer"),
    trace_clock: read("trace_clock"),
    dma_fence_enable: read("events/dma_fence/enable"),
    instances: [...Deno.readDirSync(`${root}/instances`)].map((e) => e.name).sort().join(","),
  };
}

function instancesOf(pid: number): string[] {
  return [...Deno.readDirSync(`${tracefsRoot()}/instances`)].map((e) => e.name).filter((n) =>
    n.startsWith(`dmabuf-${pid}-`)
  );
}

/** Runs the command body in-process with captured output; `stop()` ends the recording like Ctrl-C. */
function startTrace(flags: Partial<TraceFlags>): {
  result: Promise<TraceResult>;
  stdout: () => string;
  stop: () => void;
} {
  let out = "";
  const controller = new AbortController();
  const context: TraceContext = {
    stdout: { write: (text) => void (out += text) },
    stderr: { write: (text) => void (out += text) },
    signal: controller.signal,
  };
  const result = trace(context, { events: false, json: true, ...flags });
  return { result, stdout: () => out, stop: () => controller.abort("SIGINT") };
}

function timelineOf(result: TraceResult, predicate: (t: TimelineSummary) => boolean): TimelineSummary {
  const found = result.doc.timelines.filter(predicate);
  assert.equal(found.length, 1, `timelines: ${JSON.stringify(result.doc.timelines, null, 2)}`);
  return found[0]!;
}

hwTest({
  name: "trace: sw_sync fences signalled after 300, 800 and 1500 ms show those init→signalled latencies",
  needs: [needs.swSync, tracefs],
  fn: async () => {
    const before = tracingState();
    const run = startTrace({ pid: Deno.pid, events: true, json: false });
    assert.equal(instancesOf(Deno.pid).length, 1, "the instance exists once trace() has started");
    const timeline = SwSyncTimeline.open();
    const fences = [1, 2, 3].map((seqno) => timeline.createFence(seqno));
    const delays = [300, 800, 1500];
    for (const ms of delays) setTimeout(() => timeline.inc(1), ms);
    await delay(delays[2]! + 300);
    // A fourth fence left pending, and the timeline closed: it signals with -ENOENT.
    const pending = timeline.createFence(10);
    await delay(100);
    timeline.close();
    for (const fence of [...fences, pending]) fence.close();
    await delay(300);
    run.stop();
    const result = await run.result;
    const t = timelineOf(result, (t) => t.driver === "sw_sync");
    assert.equal(t.fences, 4);
    assert.equal(t.signalled, 4);
    assert.equal(t.signalledWithError, 1, "closing the timeline signalled seqno 10 with an error");
    assert.equal(t.latencyMs.count, 4);
    // Sorted: seqno 10 (~100 ms, signalled by the close), then 300, 800 and 1500 ms; nearest-rank p50 is the
    // second, max the last.
    const { p50, max } = t.latencyMs;
    assert.ok(p50! >= 300 - 5 && p50! < 300 + LATE_MS, `p50 ${p50} ms`);
    assert.ok(max! >= 1500 - 5 && max! < 1500 + LATE_MS, `max ${max} ms`);
    assert.equal(result.doc.stoppedBy, "SIGINT");
    assert.equal(result.doc.clock, "mono");
    const text = run.stdout();
    assert.match(text, / init sw_sync \S+ context=\d+ seqno=1\n/);
    assert.match(text, / sync_timeline \S+ value=0\n/);
    assert.match(text, /\nsw_sync +\S+ +\d+ +4 +4 +0 +1 /, text);
    assert.deepEqual(instancesOf(Deno.pid), [], "instance removed");
    assert.deepEqual(tracingState(), before);
  },
});

/** vgem signals a fence by itself after 10 s (VGEM_FENCE_TIMEOUT). */
const VGEM_SELF_SIGNAL_MS = 10_000;

/** Spawns `dmabuf sync --start --read` on our fd `fd` and waits until it blocked in the ioctl (state S, buffer open). */
async function blockedSync(fd: number): Promise<{ child: Deno.ChildProcess; blocked: boolean }> {
  const child = new Deno.Command(CLI_PATH, {
    args: ["sync", "--pid", String(Deno.pid), "--fd", String(fd), "--start", "--read"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const limit = performance.now() + START_LIMIT_MS;
  for (;;) {
    await delay(100);
    let status: string;
    try {
      status = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
    } catch {
      return { child, blocked: false }; // it ended without blocking
    }
    // state field after "(comm)": S = sleeping; only counts once the child has the buffer open.
    const holding = [...Deno.readDirSync(`/proc/${child.pid}/fd`)].some((e) => {
      try {
        return Deno.readLinkSync(`/proc/${child.pid}/fd/${e.name}`).startsWith("/dmabuf:");
      } catch {
        return false;
      }
    });
    if (holding && / S /.test(status.slice(status.lastIndexOf(")")))) return { child, blocked: true };
    if (/ Z /.test(status.slice(status.lastIndexOf(")"))) || performance.now() > limit) {
      return { child, blocked: false };
    }
  }
}

hwTest({
  name: `trace: a SYNC START blocked on ${
    kernelHas("sync-file-export-import") ? "an imported sw_sync" : "a vgem (no import before 6.0)"
  } write fence is a kernel wait by the syncing pid${
    kernelHas("sync-file-export-import") && kernelHas("sw-sync-enable-signaling")
      ? ", which armed a callback"
      : " (the fence's driver has no enable_signaling: no callback traced)"
  }`,
  needs: [needs.systemHeap, needs.swSync, needs.vgem, tracefs],
  fn: async () => {
    const imports = kernelHas("sync-file-export-import");
    using heap = DmaHeap.open("system");
    using timeline = SwSyncTimeline.open();
    using vgem = Vgem.open();
    const dumb = imports ? null : vgem.createDumb({ width: 16, height: 16 });
    using buffer = dumb === null ? heap.alloc(4096) : vgem.exportDmaBuf(dumb.handle);
    using fence = timeline.createFence(1);
    if (imports) buffer.importSyncFile(fence.fd, "write");
    const run = startTrace({});
    let child: Deno.ChildProcess | undefined;
    // A vgem fence signals by itself after 10 s, and the child may take longer to start: a fresh fence per
    // attempt, and an attempt counts only when the child blocked well within the fence's own lifetime.
    for (let attempt = 1; attempt <= 3 && child === undefined; attempt++) {
      const vgemFence = dumb === null ? null : vgem.attachFence(dumb.handle, { write: true });
      const attachedAt = performance.now();
      const sync = await blockedSync(buffer.fd);
      const inTime = vgemFence === null || performance.now() - attachedAt < VGEM_SELF_SIGNAL_MS / 2;
      if (sync.blocked && inTime) {
        await delay(700);
        if (vgemFence === null) timeline.inc(1);
        else vgem.signalFence(vgemFence);
        child = sync.child;
      } else {
        assert.ok(vgemFence !== null, "the sync child never blocked on the sw_sync fence");
        vgem.signalFence(vgemFence);
        await sync.child.output();
      }
    }
    assert.ok(
      child !== undefined,
      "the sync child never blocked within half of VGEM_FENCE_TIMEOUT in 3 attempts",
    );
    const status = await child.output();
    assert.equal(status.code, 0, new TextDecoder().decode(status.stderr));
    await delay(300);
    run.stop();
    const result = await run.result;
    const driver = imports ? "sw_sync" : "vgem";
    const t = timelineOf(result, (t) => t.driver === driver && t.pids.includes(child!.pid));
    const waiter = t.waits.by.find((w) => w.pid === child!.pid);
    assert.ok(waiter !== undefined, `waits: ${JSON.stringify(t.waits)}; child ${child.pid}`);
    assert.ok(waiter.count >= 1);
    assert.ok(waiter.maxMs >= 600, `the kernel wait lasted ${waiter.maxMs} ms`);
    assert.equal(t.waits.pending, 0);
    // enable_signal is traced only for drivers with an enable_signaling callback: sw_sync up to 6.12, not
    // 7.2's sw_sync, never vgem.
    if (imports && kernelHas("sw-sync-enable-signaling")) {
      assert.ok(t.callbacks.count >= 1, "the wait armed a callback (enable_signal)");
    } else assert.equal(t.callbacks.count, 0, "no enable_signal for a driver without the callback");
    if (dumb !== null) vgem.closeHandle(dumb.handle);
  },
});

/** Spawns `dmabuf trace --json`, waits until its instance exists, sends `signal`, returns exit code and output. */
async function signalled(
  signal: "SIGINT" | "SIGTERM",
): Promise<{ code: number; stdout: string; stderr: string }> {
  // cli/dmabuf execs Deno, so the child's pid is the tracer's (and its instance's name).
  const child = new Deno.Command(CLI_PATH, {
    args: ["trace", "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const limit = performance.now() + START_LIMIT_MS;
  while (instancesOf(child.pid).length === 0 && performance.now() < limit) await delay(100);
  assert.equal(instancesOf(child.pid).length, 1, "the trace process made its instance");
  await delay(300);
  child.kill(signal);
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

hwTest({
  name: "trace: tracing_on, set_event and the instances list are unchanged after a run, SIGINT and SIGTERM",
  needs: [tracefs],
  fn: async () => {
    const before = tracingState();
    const run = startTrace({ duration: 500 });
    const result = await run.result;
    assert.equal(result.doc.stoppedBy, "duration");
    assert.ok(
      result.doc.durationMs >= 500 && result.doc.durationMs < 500 + LATE_MS,
      `${result.doc.durationMs}`,
    );
    assert.deepEqual(tracingState(), before);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const { code, stdout, stderr } = await signalled(signal);
      assert.equal(code, 0, `${signal}: exit ${code}, stderr ${stderr}`);
      const doc = JSON.parse(stdout);
      assert.equal(doc.stoppedBy, signal);
      assert.deepEqual(tracingState(), before, `after ${signal}`);
    }
  },
});

hwTest({
  name: "dmabuf trace as uid 65534: exit 1 with one line saying root is needed",
  needs: [tracefs],
  fn: async () => {
    const { code, stdout, stderr } = await new Deno.Command("setpriv", {
      args: [
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        CLI_PATH,
        "trace",
        "--duration",
        "1s",
      ],
      env: { DENO_DIR: "/tmp/deno-65534", HOME: "/tmp" },
      stdin: "null",
    }).output();
    const message = new TextDecoder().decode(stderr);
    assert.equal(code, 1, message);
    assert.equal(new TextDecoder().decode(stdout), "");
    assert.match(
      message,
      /^dmabuf: trace needs root: tracefs is root-only; run it as root \(sudo\)\n$/,
    );
  },
});

/** Whether the running kernel is at least major.minor. */
function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = Deno.osRelease().split(/[.-]/).map(Number);
  return a! > major || (a === major && b! >= minor);
}

hwTest({
  name:
    `deadline: set on a sw_sync fence and read back on 6.8+, refused as ENOTTY naming 6.8 before (this: ${Deno.osRelease()})`,
  needs: [needs.swSync],
  fn: () => {
    using timeline = SwSyncTimeline.open();
    using fence = timeline.createFence(1);
    const deadline = monotonicNowNs() + 16_666_667n;
    if (kernelAtLeast(6, 8)) {
      assert.equal(getSwSyncDeadline(timeline.file, fence.fd), null, "no deadline yet (ENOENT)");
      setDeadline(fence.file, deadline);
      assert.equal(getSwSyncDeadline(timeline.file, fence.fd), deadline);
      setDeadline(fence.file, deadline + 1_000_000n);
      assert.equal(getSwSyncDeadline(timeline.file, fence.fd), deadline, "the earliest deadline is kept");
    } else {
      for (
        const call of [
          () => setDeadline(fence.file, deadline),
          () => getSwSyncDeadline(timeline.file, fence.fd),
        ]
      ) {
        assert.throws(call, (error: unknown) => {
          assert.ok(error instanceof DeadlineUnsupportedError, String(error));
          assert.match(error.message, /need Linux 6\.8 or later: .*ENOTTY/);
          return true;
        });
      }
    }
  },
});

/** Runs `dmabuf fence sw-sync --seqno 1 <sw-sync args> --exec -- sh -c SCRIPT` (the fence is fd 3, `$D` the CLI). */
async function withSwSyncFence(
  swSyncArgs: string[],
  script: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(CLI_PATH, {
    args: ["fence", "sw-sync", "--seqno", "1", ...swSyncArgs, "--exec", "--", "sh", "-c", script],
    env: { D: CLI_PATH },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

hwTest({
  name:
    `dmabuf fence deadline --at NS then fence info --json reads it back on 6.8+; exit 1 naming 6.8 before (this: ${Deno.osRelease()})`,
  needs: [needs.swSync],
  fn: async () => {
    const at = monotonicNowNs() + 60_000_000_000n;
    const run = await withSwSyncFence(
      [],
      `"$D" fence deadline --fd 3 --at ${at} && "$D" fence info --fd 3 --json`,
    );
    if (kernelAtLeast(6, 8)) {
      assert.equal(run.code, 0, run.stderr);
      const [setLine, ...info] = run.stdout.split("\n");
      assert.match(setLine!, new RegExp(`^sync_file fd 3: deadline set at CLOCK_MONOTONIC ${at} ns \\(in `));
      assert.equal(JSON.parse(info.join("\n")).deadlineNs, Number(at));
    } else {
      assert.equal(run.code, 1, run.stdout);
      assert.match(
        run.stderr,
        /^dmabuf: Cannot set a deadline on sync_file fd 3: fence deadlines need Linux 6\.8 or later \(ENOTTY\)\n/,
      );
    }
  },
});

hwTest({
  name:
    `dmabuf fence-wait --deadline sets it and waits on 6.8+; warns once naming 6.8 and waits anyway before (this: ${Deno.osRelease()})`,
  needs: [needs.swSync],
  fn: async () => {
    const run = await withSwSyncFence(
      ["--inc-after", "2s"],
      `"$D" fence-wait --fd 3 --deadline 1s --json`,
    );
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.result, "signalled");
    const warnings = run.stderr.split("\n").filter((line) => line.includes("--deadline"));
    if (kernelAtLeast(6, 8)) {
      assert.equal(typeof doc.deadlineNs, "number");
      assert.deepEqual(warnings, []);
    } else {
      assert.equal(doc.deadlineNs, null);
      assert.equal(warnings.length, 1, run.stderr);
      assert.match(
        warnings[0]!,
        /^dmabuf: warning: --deadline ignored: fence deadlines need Linux 6\.8 or later \(/,
      );
    }
  },
});

hwTest({
  name: `dmabuf fence info --json: deadlineNs null while none is set (this: ${Deno.osRelease()})`,
  needs: [needs.swSync],
  fn: async () => {
    const run = await withSwSyncFence([], `"$D" fence info --fd 3 --json`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).deadlineNs, null);
  },
});
