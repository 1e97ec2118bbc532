/**
 * Whether the current run asked for `--verbose`. Error texts are produced by stricli outside any command, so
 * the flag is looked up in the raw arguments (before `--`) when the run starts.
 * @module
 */

let verbose = false;

/** Records whether `args` ask for `--verbose`. */
export function noteVerbose(args: readonly string[]): void {
  const end = args.indexOf("--");
  verbose = (end === -1 ? args : args.slice(0, end)).includes("--verbose");
}

/** Whether the current run asked for `--verbose`. */
export function verboseRequested(): boolean {
  return verbose;
}
