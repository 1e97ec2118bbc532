/**
 * `dmabuf trace`: records the fence lifecycle (dma_fence events, sw_sync's sync_timeline, dma_buf events where
 * the kernel has them) in a private tracefs instance for `--duration` or until Ctrl-C/SIGTERM, and prints a
 * summary per timeline (`--json`: one document), with `--events` one line per event as it happens.
 *
 The engine, {@link trace}, runs against the small {@link TraceContext} (two writers and an abort signal), so
 * kernel tests and the benchmark can run it in-process; {@link traceCommand} is the CLI's body, which hands it
 * the context's streams and `interrupt()` signal. Failures are the toolkit's errors: {@link UsageError}
 * (exit 2) for bad flags, {@link CliError} (exit 1) for no root, no tracefs, a failed write. The instance is
 * removed on every path out of {@link trace}: duration over, abort (Ctrl-C, SIGTERM: exit 0 with the
 * summary), and errors (`using`).
 * @module
 */

import type { CommonFlags, DmabufContext } from "../toolkit/context.ts";
import { CliError, UsageError } from "../toolkit/errors.ts";
import { UserOutput } from "../toolkit/user_file.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { geteuid } from "../../ffi/fd.ts";
import { processCpuMs } from "../../ffi/libc.ts";
import { LineSplitter, parseTraceLine } from "../../ffi/text/trace_event.ts";
import {
  findTracefs,
  removeStaleInstances,
  TracefsUnavailableError,
  TraceInstance,
  TRACING_REQUIREMENT,
} from "../../ffi/tracefs.ts";
import { TraceModel } from "./model.ts";
import {
  eventJson,
  type RecordingInfo,
  renderEvent,
  renderSummary,
  type TraceJson,
  traceJson,
} from "./render.ts";

/** A place to write text (the CLI's stdout/stderr streams fit). */
export interface TextSink {
  write(text: string): void;
}

/** What the command body needs from its caller. */
export interface TraceContext {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /**
   * Aborted on Ctrl-C/SIGTERM or when stdout's reader goes away (the reason, `SIGINT`, `SIGTERM` or `EPIPE`, is
   * reported as `stoppedBy`).
   */
  readonly signal: AbortSignal;
}

/** Flags of `dmabuf trace`. */
export interface TraceFlags {
  /** Record for this many ms; undefined: until Ctrl-C. */
  readonly duration?: number | undefined;
  /** Only this fence driver. */
  readonly driver?: string | undefined;
  /** Only this timeline name. */
  readonly timeline?: string | undefined;
  /** Only timelines this process touched. */
  readonly pid?: number | undefined;
  /** One line per event as it happens (`--json`: one JSON object per line). */
  readonly events: boolean;
  /** The summary as one JSON document. */
  readonly json: boolean;
  /** Write the summary to this file instead of stdout. */
  readonly output?: string | undefined;
  /** Per-CPU ring buffer size in KiB for the instance (default: the kernel's). */
  readonly bufferKb?: number | undefined;
}

/** What a recording produced (also what kernel tests and the benchmark look at). */
export interface TraceResult {
  /** The JSON document (also what the human summary shows). */
  doc: TraceJson;
  /** CPU time this process used while recording, in ms (the cost of tracing on the reader's side). */
  cpuMs: number;
}

function checkFlags(flags: TraceFlags): void {
  if (flags.duration !== undefined && !(flags.duration > 0)) {
    throw new UsageError(`Invalid --duration ${flags.duration} ms: expected more than 0`);
  }
  if (flags.pid !== undefined && !(Number.isInteger(flags.pid) && flags.pid > 0)) {
    throw new UsageError(`Invalid --pid ${flags.pid}: expected a positive integer`);
  }
  if (flags.driver === "") throw new UsageError("Invalid --driver: empty name");
  if (flags.timeline === "") throw new UsageError("Invalid --timeline: empty name");
  if (flags.bufferKb !== undefined && !(Number.isInteger(flags.bufferKb) && flags.bufferKb > 0)) {
    throw new UsageError(`Invalid buffer size ${flags.bufferKb} KiB: expected a positive integer`);
  }
}

/** Needing root, for messages. */
const ROOT_HINT = "run it as root (sudo)";

/** Turns the errors of finding and making the instance into one-line {@link CliError}s (exit 1). */
function openInstance(bufferKb: number | undefined): TraceInstance {
  if (geteuid() !== 0) throw new CliError("trace needs root: tracefs is root-only", { hint: ROOT_HINT });
  try {
    const root = findTracefs();
    removeStaleInstances(root);
    return TraceInstance.create({ root, bufferSizeKb: bufferKb });
  } catch (error) {
    if (error instanceof TracefsUnavailableError) throw new CliError(error.message, { cause: error });
    if (error instanceof SyscallError && (error.is("EACCES") || error.is("EPERM"))) {
      throw new CliError(`trace needs root: ${error.message}`, { hint: ROOT_HINT, cause: error });
    }
    if (error instanceof SyscallError && error.is("ENODEV")) {
      throw new CliError(`Cannot use tracefs: ${error.message} (${TRACING_REQUIREMENT})`, { cause: error });
    }
    if (error instanceof SyscallError) {
      throw new CliError(`Cannot make a tracefs instance: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function stoppedBy(signal: AbortSignal): RecordingInfo["stoppedBy"] {
  const reason = signal.reason;
  return reason === "SIGINT" || reason === "SIGTERM" || reason === "EPIPE" ? reason : "abort";
}

/**
 * Records, summarises and writes the report; returns the result. Ctrl-C/SIGTERM end the recording normally.
 * @throws {UsageError} for bad flags (exit 2)
 * @throws {CliError} for runtime failures (exit 1: no root, no tracefs, the report not written)
 */
export async function trace(context: TraceContext, flags: TraceFlags): Promise<TraceResult> {
  checkFlags(flags);
  const filter = { driver: flags.driver, timeline: flags.timeline, pid: flags.pid };
  const model = new TraceModel(filter);
  const splitter = new LineSplitter();
  const live = (lines: string[]) => {
    for (const line of lines) {
      const record = parseTraceLine(line);
      if (record === null) continue;
      model.apply(record);
      if (flags.events && model.matches(record)) {
        context.stdout.write((flags.json ? eventJson(record) : renderEvent(record)) + "\n");
      }
    }
  };

  // The summary's file is checked before anything is recorded, and written at the end.
  using output = flags.output === undefined ? null : UserOutput.open(flags.output);
  using instance = openInstance(flags.bufferKb);
  const startedAt = new Date();
  const start = performance.now();
  const cpuStart = processCpuMs();
  const end = flags.duration === undefined ? Infinity : start + flags.duration;
  while (!context.signal.aborted) {
    const left = end - performance.now();
    if (left <= 0) break;
    const text = await instance.read({ maxWaitMs: Math.min(left, 1000), signal: context.signal });
    if (text !== "") live(splitter.push(text));
  }
  const durationMs = performance.now() - start;
  // What was recorded up to the stop is still in the buffer: take it, then remove the instance.
  instance.stop();
  for (let text = instance.drain(); text !== ""; text = instance.drain()) live(splitter.push(text));
  live(splitter.flush());
  const cpuMs = processCpuMs() - cpuStart;
  try {
    instance.remove();
  } catch (error) {
    throw new CliError(`Cannot remove the tracefs instance ${instance.path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const info: RecordingInfo = {
    startedAt: startedAt.toISOString(),
    durationMs,
    tracefs: instance.root,
    instance: instance.name,
    clock: instance.clock,
    enabled: instance.enabled,
    filter,
    stoppedBy: context.signal.aborted ? stoppedBy(context.signal) : "duration",
    readerCpuMs: cpuMs,
  };
  const summary = model.summary();
  const doc = traceJson(info, summary);
  // With --events --json, stdout is JSON Lines: the events, then the summary on one line too.
  const report = flags.json
    ? JSON.stringify(doc, null, flags.events && flags.output === undefined ? undefined : 2) + "\n"
    : renderSummary(info, summary);
  if (output === null) {
    context.stdout.write(report);
  } else {
    output.write(report);
    context.stderr.write(
      `Trace summary written to ${output.path}: ${summary.events} events, ${summary.timelines.length} timeline(s)\n`,
    );
  }
  return { doc, cpuMs };
}

/** Flags of the `dmabuf trace` command line (the engine's {@link TraceFlags} plus `--verbose`, `--color`). */
export interface TraceCommandFlags extends CommonFlags {
  /** `--duration`: record for this many ms; undefined: until Ctrl-C or SIGTERM. */
  readonly duration?: number;
  /** `--driver`: only this fence driver. */
  readonly driver?: string;
  /** `--timeline`: only this timeline name. */
  readonly timeline?: string;
  /** `--pid`: only timelines this process touched. */
  readonly pid?: number;
  /** `--events`: one line (with `--json`, one JSON object) per event as it happens. */
  readonly events: boolean;
  /** `--output`: the summary goes to this file, a one-line note to stderr. */
  readonly output?: string;
}

/**
 * `dmabuf trace`: {@link trace} on the CLI's streams, ended by `--duration` or Ctrl-C/SIGTERM (both exit 0
 * with the summary).
 */
export async function traceCommand(this: DmabufContext, flags: TraceCommandFlags): Promise<void> {
  // Recording for stdout ends when its reader goes away; a summary for --output FILE does not need stdout.
  const signal = this.interrupt({ stdout: flags.output === undefined || flags.events });
  await trace({ stdout: this.io.stdout, stderr: this.io.stderr, signal }, {
    duration: flags.duration,
    driver: flags.driver,
    timeline: flags.timeline,
    pid: flags.pid,
    events: flags.events,
    json: flags.json,
    output: flags.output,
  });
}
