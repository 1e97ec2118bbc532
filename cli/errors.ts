/**
 * The errors that decide the exit status, and the one place that maps errors to exit codes and messages.
 * @module
 */

import { SyscallError } from "../ffi/errno.ts";
import { NotADmaBufError } from "../ffi/dma_buf.ts";

/** Exit statuses documented in README and `--help`. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A runtime or kernel failure (an ioctl failed, a verify mismatched, a heap is missing). */
  FAILURE: 1,
  /** A usage error: unknown command or option, a bad value. */
  USAGE: 2,
  /** A wait timed out (fence-wait `--timeout`). */
  TIMEOUT: 124,
  /** Interrupted by SIGINT (128 + 2), as shells report it. */
  INTERRUPTED: 130,
} as const;

/** Options of {@link CliError}. */
export interface CliErrorOptions {
  /** What the user can do about it; printed after the message on the same line. */
  hint?: string;
  /** The underlying error, shown with `--verbose`. */
  cause?: unknown;
  /** Exit status; default {@link ExitCode.FAILURE}. */
  exitCode?: number;
}

/** An error meant for the user: a one-line message, an optional hint, and an exit status. */
export class CliError extends Error {
  /** What the user can do about it. */
  readonly hint: string | undefined;
  /** The exit status. */
  readonly exitCode: number;

  /** Makes the error. */
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.FAILURE;
  }
}

/** A bad command line: exit status 2. */
export class UsageError extends CliError {
  /** Makes the error. */
  constructor(message: string, options: Omit<CliErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: ExitCode.USAGE });
    this.name = "UsageError";
  }
}

/** A wait that ran out of time: exit status 124. */
export class TimeoutError extends CliError {
  /** Makes the error. */
  constructor(message: string, options: Omit<CliErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: ExitCode.TIMEOUT });
    this.name = "TimeoutError";
  }
}

/**
 * Ends the command with `exitCode` without a further message: the command has already said what happened
 * (a verify mismatch it reported, a child's exit status passed on by `--exec`).
 */
export class Exit extends Error {
  /** The exit status. */
  readonly exitCode: number;
  /** Makes the signal to exit with `exitCode`. */
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "Exit";
    this.exitCode = exitCode;
  }
}

/** The exit status for anything a command threw. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof Exit || error instanceof CliError) return error.exitCode;
  if (error instanceof RangeError && !(error instanceof SyscallError)) return ExitCode.USAGE;
  return ExitCode.FAILURE;
}

/** Whether an error is the user's own (a message is enough) rather than a bug (which deserves a stack). */
function isExpected(error: unknown): boolean {
  return error instanceof CliError || error instanceof SyscallError || error instanceof NotADmaBufError ||
    error instanceof RangeError || error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.PermissionDenied;
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

/**
 * The message for an error: one line (`dmabuf: <message>[; <hint>]`), or with `verbose` the stack and the
 * chain of causes as well. Unexpected errors say so and point at `--verbose`. {@link Exit} gives "" (nothing
 * to print).
 */
export function formatError(error: unknown, verbose: boolean): string {
  // Exit is quiet by definition: the command has already said what happened.
  if (error instanceof Exit) return "";
  if (!(error instanceof Error)) return `dmabuf: ${firstLine(String(error))}`;
  const hint = error instanceof CliError && error.hint !== undefined ? `; ${error.hint}` : "";
  const prefix = isExpected(error) ? "" : "internal error: ";
  const line = `dmabuf: ${prefix}${firstLine(error.message)}${hint}`;
  if (!verbose) return isExpected(error) ? line : `${line} (run with --verbose for the stack)`;
  const parts = [line, error.stack ?? ""];
  let cause: unknown = error.cause;
  while (cause !== undefined) {
    parts.push(`caused by: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join("\n");
}
