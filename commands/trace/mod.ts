/**
 * `dmabuf trace`: records the fence lifecycle (dma_fence events, sw_sync's sync_timeline, dma_buf events where
 * the kernel has them) in a private tracefs instance for `--duration` or until Ctrl-C/SIGTERM, and prints a
 * summary per timeline (`--json`: one document), with `--events` one line per event as it happens.
 *
 * Written against the small {@link TraceContext} so that it can be wired to the CLI's context at merge: the
 * CLI passes its stdout/stderr writers and `interrupt()` signal, and maps {@link TraceError} to its error
 * classes (exit 1 runtime, 2 usage). The instance is removed on every path out of {@link trace}: duration
 * over, abort, and errors (`using`).
 * @module
 */

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
  /** Aborted on Ctrl-C/SIGTERM (the reason, `SIGINT` or `SIGTERM`, is reported as `stoppedBy`). */
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

/** A failure with its exit status: 1 runtime (no root, no tracefs), 2 usage. */
export class TraceError extends Error {
  /** The exit status. */
  readonly exitCode: 1 | 2;
  /** Makes the error. */
  constructor(message: string, exitCode: 1 | 2 = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = "TraceError";
    this.exitCode = exitCode;
  }
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
    throw new TraceError(`Invalid --duration ${flags.duration} ms: expected more than 0`, 2);
  }
  if (flags.pid !== undefined && !(Number.isInteger(flags.pid) && flags.pid > 0)) {
    throw new TraceError(`Invalid --pid ${flags.pid}: expected a positive integer`, 2);
  }
  if (flags.driver === "") throw new TraceError("Invalid --driver: empty name", 2);
  if (flags.timeline === "") throw new TraceError("Invalid --timeline: empty name", 2);
  if (flags.bufferKb !== undefined && !(Number.isInteger(flags.bufferKb) && flags.bufferKb > 0)) {
    throw new TraceError(`Invalid buffer size ${flags.bufferKb} KiB: expected a positive integer`, 2);
  }
}

/** Turns the errors of finding and making the instance into one-line {@link TraceError}s. */
function openInstance(bufferKb: number | undefined): TraceInstance {
  if (geteuid() !== 0) {
    throw new TraceError("dmabuf trace needs root: tracefs is root-only (run it with sudo)");
  }
  try {
    const root = findTracefs();
    removeStaleInstances(root);
    return TraceInstance.create({ root, bufferSizeKb: bufferKb });
  } catch (error) {
    if (error instanceof TracefsUnavailableError) throw new TraceError(error.message, 1, { cause: error });
    if (error instanceof SyscallError && (error.is("EACCES") || error.is("EPERM"))) {
      throw new TraceError(`dmabuf trace needs root: ${error.message}`, 1, { cause: error });
    }
    if (error instanceof SyscallError && error.is("ENODEV")) {
      throw new TraceError(`Cannot use tracefs: ${error.message} (${TRACING_REQUIREMENT})`, 1, {
        cause: error,
      });
    }
    if (error instanceof SyscallError) {
      throw new TraceError(`Cannot make a tracefs instance: ${error.message}`, 1, { cause: error });
    }
    throw error;
  }
}

function stoppedBy(signal: AbortSignal): RecordingInfo["stoppedBy"] {
  const reason = signal.reason;
  return reason === "SIGINT" || reason === "SIGTERM" ? reason : "abort";
}

/**
 * Records, summarises and writes the report; returns the result. Ctrl-C/SIGTERM end the recording normally.
 * @throws {TraceError} for usage errors (exit 2) and runtime failures (exit 1), with one-line messages
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
    throw new TraceError(
      `Cannot remove the tracefs instance ${instance.path}: ${(error as Error).message}`,
      1,
      {
        cause: error,
      },
    );
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
  const report = flags.json ? JSON.stringify(doc, null, 2) + "\n" : renderSummary(info, summary);
  if (flags.output === undefined) {
    context.stdout.write(report);
  } else {
    try {
      Deno.writeTextFileSync(flags.output, report);
    } catch (error) {
      throw new TraceError(`Cannot write ${flags.output}: ${(error as Error).message}`, 1, { cause: error });
    }
    context.stderr.write(
      `Trace summary written to ${flags.output}: ${summary.events} events, ${summary.timelines.length} timeline(s)\n`,
    );
  }
  return { doc, cpuMs };
}

/**
 * Runs {@link trace} and turns its outcome into an exit status, writing a failure as one line on stderr (no
 * stack): the behaviour the CLI route will have.
 */
export async function traceCommand(context: TraceContext, flags: TraceFlags): Promise<number> {
  try {
    await trace(context, flags);
    return 0;
  } catch (error) {
    if (error instanceof TraceError) {
      context.stderr.write(`dmabuf trace: ${error.message}\n`);
      return error.exitCode;
    }
    context.stderr.write(`dmabuf trace: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
