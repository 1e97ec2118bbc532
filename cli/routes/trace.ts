import { buildCommand } from "@stricli/core";
import { commonFlags, type DmabufContext } from "../../commands/toolkit/context.ts";
import { parseInterval, parsePath, parsePid } from "../../commands/toolkit/parse.ts";
import type { TraceCommandFlags } from "../../commands/trace/mod.ts";

/** `dmabuf trace`: the fence lifecycle from the kernel's tracepoints, summarised per timeline. */
export const traceCommand = buildCommand<TraceCommandFlags, [], DmabufContext>({
  loader: async () => (await import("../../commands/trace/mod.ts")).traceCommand,
  parameters: {
    flags: {
      ...commonFlags,
      duration: {
        kind: "parsed",
        parse: parseInterval,
        optional: true,
        placeholder: "DURATION",
        brief: "Record for DURATION (500ms, 10s, 1m); default: until Ctrl-C or SIGTERM",
      },
      driver: {
        kind: "parsed",
        parse: String,
        optional: true,
        placeholder: "NAME",
        brief: "Only fences of this driver (e.g. sw_sync, drm_sched, i915)",
      },
      timeline: {
        kind: "parsed",
        parse: String,
        optional: true,
        placeholder: "NAME",
        brief: "Only fences on timelines of this name",
      },
      pid: {
        kind: "parsed",
        parse: parsePid,
        optional: true,
        placeholder: "P",
        brief: "Only timelines process P touched (created, signalled, waited on or armed a callback)",
      },
      events: {
        kind: "boolean",
        default: false,
        withNegated: false,
        brief: "Also print one line per event as it happens (--json: one JSON object per event)",
      },
      output: {
        kind: "parsed",
        parse: parsePath,
        optional: true,
        placeholder: "FILE",
        brief: "Write the summary to FILE (a one-line note goes to stderr)",
      },
    },
  },
  docs: {
    brief: "Record fence lifecycles (dma_fence tracepoints) and summarise them per timeline",
    fullDescription: [
      "Records the kernel's dma_fence events (init, emit, enable_signal, signaled, wait_start, wait_end,",
      "destroy), sw_sync's sync_timeline and dma_buf/* where the kernel has them, in a private tracefs instance",
      "(instances/dmabuf-<pid>-<hex>): global tracing (tracing_on, set_event, the main buffer) is never",
      "touched, and the instance is removed however the command ends. Recording ends after --duration, or at",
      "Ctrl-C or SIGTERM — both still print the summary and exit 0.",
      "",
      "The summary has a row per (driver, timeline): fences seen, signalled, unsignalled at the end, signalled",
      "with an error (inferred for sw_sync, ? elsewhere), latency init→signalled p50 / p99 / max, kernel waits",
      "(wait_start/wait_end: count, total and longest) and callbacks armed (enable_signal); below it, who",
      "waited, which seqnos never signalled, and emit→signalled where the driver emits.",
      "--json: one document at the end {startedAt, durationMs, events, lost, timelines [{driver, timeline,",
      "context, fences, signalled, unsignalled, signalledWithError, latencyMs {p50, p99, max, count},",
      "emitLatencyMs, waits {count, totalMs, maxMs, pending, by [{pid, comm, count, totalMs, maxMs}]},",
      "callbacks {count, by}, pids}], syncTimelines, dmaBuf, tracefs, instance, clock, enabled, filter,",
      "stoppedBy (duration|SIGINT|SIGTERM|EPIPE), readerCpuMs}. --events --json is JSON Lines: one object per",
      "event, then the summary document on one line.",
      "",
      "Needs root and tracefs (CONFIG_FTRACE=y; mount it with: mount -t tracefs nodev /sys/kernel/tracing).",
      "",
      "Examples:",
      "  sudo dmabuf trace --duration 10s",
      "  sudo dmabuf trace --events --pid 1234",
      "  sudo dmabuf trace --driver sw_sync --json --output trace.json",
      "",
      "Exit status: 0 (also after Ctrl-C or SIGTERM); 1 not root, no tracefs, the kernel without the events,",
      "FILE not written; 2 usage error.",
    ].join("\n"),
  },
});
