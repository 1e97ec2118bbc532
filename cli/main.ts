/**
 * The entry point: runs the command line and turns the outcome into an exit status. The only place that
 * exits the process.
 * @module
 */

import { run } from "@stricli/core";
import { app } from "./app.ts";
import { type InterruptOptions, makeContext } from "../commands/toolkit/context.ts";
import { ExitCode } from "../commands/toolkit/errors.ts";
import { requireInheritedFds } from "../commands/toolkit/fd_origin.ts";
import { type Io, processIo } from "../commands/toolkit/streams.ts";
import { noteArgs } from "./run_args.ts";

/** stricli's own exit codes for scanner and routing failures, which the user sees as usage errors. */
const STRICLI_USAGE_CODES = new Set([-4, -5]);

/** The signals that end a waiting command cleanly. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

function exitStatus(code: number | string | null | undefined): number {
  if (code === undefined || code === null || code === "") return ExitCode.OK;
  const value = Number(code);
  if (STRICLI_USAGE_CODES.has(value)) return ExitCode.USAGE;
  if (value < 0 || !Number.isInteger(value)) return ExitCode.FAILURE;
  return value;
}

/**
 * Runs `dmabuf` with `args` on `io` and returns the exit status (0 success, 1 failure, 2 usage, 124 timeout,
 * or a child's status). Never throws for user errors; tests call this in-process.
 */
export async function main(args: readonly string[], io: Io = processIo()): Promise<number> {
  noteArgs(args);
  const controller = new AbortController();
  const listeners: [Deno.Signal, () => void][] = [];
  let watch: Disposable | undefined;
  const interrupt = (options: InterruptOptions = {}): AbortSignal => {
    if (listeners.length === 0) {
      for (const name of STOP_SIGNALS) {
        const listener = () => controller.abort(name);
        Deno.addSignalListener(name, listener);
        listeners.push([name, listener]);
      }
    }
    if (options.stdout === false) return controller.signal;
    watch ??= io.stdout.watchClosed();
    return AbortSignal.any([controller.signal, io.stdout.closed]);
  };
  const context = makeContext(io, interrupt);
  const process: {
    stdout: Io["stdout"];
    stderr: Io["stderr"];
    env: Record<string, string>;
    exitCode?: number | string | null;
  } = {
    stdout: io.stdout,
    stderr: {
      isTerminal: io.stderr.isTerminal,
      // stricli ends messages without a newline in some paths; every message here is a whole line.
      // An empty message (a quiet Exit) prints nothing rather than a blank line. stricli colours stderr only
      // for a stream whose getColorDepth() is 4 or more, and this one has none, so its messages carry no
      // escape codes: a plain trim tells an empty one (node:util's stripVTControlCharacters is not needed, and
      // not loading node:util saves its Node-compatibility start-up, about 13 ms, on every run).
      write: (text: string) => {
        if (text.trim() !== "") {
          io.stderr.write(text.endsWith("\n") ? text : text + "\n");
        }
      },
    },
    env: {
      STRICLI_SKIP_VERSION_CHECK: "1",
      ...(io.env("NO_COLOR") === undefined ? {} : { STRICLI_NO_COLOR: "1" }),
    },
  };
  try {
    await run(app, args, { ...context, process });
  } finally {
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    watch?.[Symbol.dispose]();
  }
  return exitStatus(process.exitCode);
}

if (import.meta.main) {
  // A process of its own, started from a shell: --fd N names an fd that shell handed over.
  requireInheritedFds();
  const status = await main(Deno.args);
  // One turn of the event loop before exiting: Deno 2.9 stores V8's code cache of the modules it compiled
  // only from its event loop, and --help, --version and usage errors wait on nothing, so without this they
  // never leave a cache and compile every module again on every start (about 6 ms of --help). One op's turn
  // stored it in 8 of 12 fresh starts, so the cache is there after a start or two. Measured alternatives:
  // a zero timer stored it every time but loads Deno's Node-compatible timers (+10 to 17 ms per start);
  // ending by letting the loop drain stored it every time too, but a child left running after a second
  // Ctrl-C (alloc/fence --exec) would then keep dmabuf alive.
  await Deno.lstat("/");
  Deno.exit(status);
}
