/**
 * The one place that maps errors to exit codes and messages (stricli's `determineExitCode` and error texts).
 * The error classes themselves live in the toolkit (`commands/toolkit/errors.ts`).
 * @module
 */

import { CliError, Exit, ExitCode } from "../commands/toolkit/errors.ts";

/**
 * Names of the kernel-boundary errors (`ffi/`) a user can cause, recognised by name: importing their classes
 * here would load FFI code on every `--help` and usage error. tests/cli/errors_test.ts keeps the names true.
 */
const KERNEL_ERROR_NAMES: ReadonlySet<string> = new Set(["SyscallError", "NotADmaBufError"]);

/** The exit status for anything a command threw. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof Exit || error instanceof CliError) return error.exitCode;
  // Only a deliberate UsageError exits 2: a RangeError from inside the tool (a codec, a mapping bound) is a bug.
  return ExitCode.FAILURE;
}

/**
 * Whether an error is the user's world (a message is enough) rather than a bug (which deserves a stack),
 * decided by where it came from, not by its class: what the system or the user's files did is turned into
 * a {@link CliError} where it happens (a full disk writing stdout, a path that is a directory), the kernel's
 * answers are the ffi's errors; anything else, a `Deno.errors.NotFound` from inside the tool included, is
 * an internal error.
 */
function isExpected(error: unknown): boolean {
  return error instanceof CliError || (error instanceof Error && KERNEL_ERROR_NAMES.has(error.name));
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
