/**
 * The stricli flag specs that several commands share, with the types of the flags they produce: buffer
 * selection (map, sync, info, fence-wait, fence), hand-off (alloc, fence export, fence sw-sync), report formats
 * (smoke) and the watch interval (stat). Routes in `cli/` spread these; command bodies take the types.
 * @module
 */

import { parseDuration, parseFdNumber, parseHeapName, parsePid, parseSize } from "./parse.ts";

/** The selection flags (`--fd`, `--pid --fd`, `--heap --size`). All optional: `selectBuffer` (commands/buffer_select.ts) checks the combination. */
export interface BufferSelectFlags {
  /** `--fd N`: an fd of this process, or with `--pid` of that process. */
  readonly fd?: number;
  /** `--pid P`: the process whose `--fd` is meant. */
  readonly pid?: number;
  /** `--heap NAME`: allocate a fresh buffer from this heap (`cma`, `udmabuf` accepted). */
  readonly heap?: string;
  /** `--size SIZE`: size of the fresh buffer. */
  readonly size?: number;
}

/** The stricli flag specs of {@link BufferSelectFlags}; spread into a command's `flags`. */
export const bufferSelectFlags = {
  fd: {
    kind: "parsed",
    parse: parseFdNumber,
    optional: true,
    placeholder: "N",
    brief: "The dma-buf at fd N of this process (or, with --pid, of process P)",
  },
  pid: {
    kind: "parsed",
    parse: parsePid,
    optional: true,
    placeholder: "P",
    brief: "Take --fd N from process P (pidfd_getfd; needs ptrace permission over P)",
  },
  heap: {
    kind: "parsed",
    parse: parseHeapName,
    optional: true,
    placeholder: "NAME",
    brief: "Use a fresh buffer from this heap (system, cma, udmabuf, ...); needs --size",
  },
  size: {
    kind: "parsed",
    parse: parseSize,
    optional: true,
    placeholder: "SIZE",
    brief: "Size of the fresh buffer (e.g. 4K, 1M); heap system unless --heap says otherwise",
  },
} as const;

/** `--hold` with no duration: until SIGINT or SIGTERM. */
export const HOLD_FOREVER = Number.POSITIVE_INFINITY;

/** Flags of the hand-off. */
export interface HandOffFlags {
  /** `--hold [DURATION]`: milliseconds to hold, {@link HOLD_FOREVER} without a duration, undefined when absent. */
  readonly hold?: number;
  /** `--exec`: run the command after `--` with the fds inherited. */
  readonly exec: boolean;
}

/** Parses `--hold`'s optional value: empty (no value) means until a signal. @throws {UsageError} */
export function parseHold(input: string): number {
  return input.trim() === "" ? HOLD_FOREVER : parseDuration(input);
}

/** The stricli flag specs of {@link HandOffFlags}; spread into a command's `flags`. */
export const handOffFlags = {
  hold: {
    kind: "parsed",
    parse: parseHold,
    optional: true,
    inferEmpty: true,
    placeholder: "DURATION",
    brief:
      "Keep the fds alive after printing a ready line (pid, fds) until DURATION passes or SIGINT/SIGTERM",
  },
  exec: {
    kind: "boolean",
    default: false,
    withNegated: false,
    brief:
      "Run the command after -- with the fds inherited as 3, 4, ... (DMABUF_FDS) and exit with its status",
  },
} as const;

/** The stricli positional spec for the command after `--` (only meaningful with `--exec`). */
export const handOffPositional = {
  kind: "array",
  parameter: { brief: "Command and arguments for --exec, after --", parse: String, placeholder: "cmd" },
} as const;

/** The output formats. */
export const REPORT_FORMATS = ["human", "tap", "junit", "json", "ktap", "lava"] as const;

/** An output format. */
export type ReportFormat = typeof REPORT_FORMATS[number];

/** The default `--watch` interval in ms. */
export const DEFAULT_WATCH_MS = 2000;
