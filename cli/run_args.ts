/**
 * The arguments of the current run, for the texts stricli has produced outside any command (errors of the
 * command line): whether `--verbose` was asked for, and the arguments to suggest a reordering of.
 * @module
 */

let current: readonly string[] = [];

/** Records the arguments of the run that is starting. */
export function noteArgs(args: readonly string[]): void {
  current = args;
}

/** Whether the current run asked for `--verbose` (before `--`). */
export function verboseRequested(): boolean {
  const end = current.indexOf("--");
  return (end === -1 ? current : current.slice(0, end)).includes("--verbose");
}

/** The current run's arguments. */
export function runArgs(): readonly string[] {
  return current;
}
