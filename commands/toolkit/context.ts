/**
 * What every command function receives as `this`: the streams, the environment and the formatter, plus the
 * flags every command has (`--json`, `--verbose`, `--color`).
 * @module
 */

import type { CommandContext } from "@stricli/core";
import type { ColorMode } from "./color.ts";
import { Output } from "./output.ts";
import type { Io } from "./streams.ts";

/** Flags every command has. */
export interface CommonFlags {
  /** One JSON document on stdout, raw numbers, stable camelCase names. */
  readonly json: boolean;
  /** Stack and cause chain on error; more detail in human output. */
  readonly verbose: boolean;
  /** Colour: `auto` (terminal and no NO_COLOR), `always`, `never`. */
  readonly color: ColorMode;
}

/** The stricli parameter specs of {@link CommonFlags}; spread into every command's `flags`. */
export const commonFlags = {
  json: {
    kind: "boolean",
    brief: "Print one JSON document on stdout (raw numbers, stable camelCase field names)",
    default: false,
    withNegated: false,
  },
  verbose: {
    kind: "boolean",
    brief: "On error, print the stack and cause chain; more detail in human output",
    default: false,
    withNegated: false,
  },
  color: {
    kind: "enum",
    values: ["auto", "always", "never"],
    brief: "Colour output: auto (only on a terminal, never with NO_COLOR), always, never",
    default: "auto",
  },
} as const;

/** The context of a command run. */
export interface DmabufContext extends CommandContext {
  /** Streams and environment. */
  readonly io: Io;
  /** The formatter configured by the command's common flags. */
  output(flags: CommonFlags): Output;
  /**
   * A signal that stops a command that waits: aborted by SIGINT or SIGTERM (reason `SIGINT`, `SIGTERM`) and,
   * unless `options.stdout` is false, once stdout's reader has gone (reason `EPIPE`; see `streams.ts`). The
   * first call installs the handlers, so only commands that wait in slices (hold, fence waits, watch, trace)
   * take over Ctrl-C; everywhere else it keeps ending the process at once, even inside a blocking ioctl.
   */
  interrupt(options?: InterruptOptions): AbortSignal;
}

/** Options of {@link DmabufContext.interrupt}. */
export interface InterruptOptions {
  /** Whether the command stops when stdout's reader goes away; default true (false for one writing a file). */
  readonly stdout?: boolean;
}

/** Makes the context for a run on `io`; `interrupt` provides the abort signal (see {@link DmabufContext}). */
export function makeContext(io: Io, interrupt: (options?: InterruptOptions) => AbortSignal): DmabufContext {
  return {
    io,
    interrupt,
    process: { stdout: io.stdout, stderr: io.stderr },
    output: (flags: CommonFlags) => new Output(io, flags),
  };
}
