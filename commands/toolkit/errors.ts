/**
 * The errors that decide the exit status: what commands throw for the user to read (one line, a hint, an exit
 * status). `cli/errors.ts` maps them to exit codes and messages.
 * @module
 */

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
  /** Stopped because stdout's reader went away (128 + SIGPIPE 13, as shells report death by it). */
  BROKEN_PIPE: 141,
  /** Ended by SIGTERM (128 + 15), as shells report it. */
  TERMINATED: 143,
} as const;

/**
 * The exit status of a command that the context's interrupt signal stopped, by its `reason`: 143 for SIGTERM,
 * 141 for a closed stdout (EPIPE, as a shell reports death by SIGPIPE), 130 for SIGINT and anything else.
 */
export function interruptedExitCode(reason: unknown): number {
  if (reason === "SIGTERM") return ExitCode.TERMINATED;
  if (reason === "EPIPE") return ExitCode.BROKEN_PIPE;
  return ExitCode.INTERRUPTED;
}

/** How many characters of a user's value a message shows. */
const SHOWN_MAX = 160;

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * A value the user gave, as a one-line message shows it: control characters as `\xNN` escapes (a newline in a
 * path stays one line), and cut after {@link SHOWN_MAX} characters with the length said (a 130,000-character
 * argument is not echoed whole).
 */
export function shown(text: string): string {
  const line = text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  if (line.length <= SHOWN_MAX) return line;
  return `${line.slice(0, SHOWN_MAX)}... (${text.length} characters)`;
}

/**
 * An error of a call into the runtime (`Deno.errors.*`, which carry the errno name as `code`) as one line:
 * the errno name and what it means, `ENOSPC (No space left on device)`, without the runtime's own wording
 * (`(os error 28): writefile '...'`). Undefined for any other error.
 */
export function systemErrorText(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  const meaning = error.message.replace(/ \(os error \d+\)[^]*$/, "");
  return `${code} (${meaning})`;
}

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

/** An error as one line of a message: {@link systemErrorText} for the runtime's, else its message. */
export function errorText(error: unknown): string {
  return systemErrorText(error) ?? (error instanceof Error ? error.message : String(error));
}
